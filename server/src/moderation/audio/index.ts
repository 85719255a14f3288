export {
  CHROMAPRINT_ALGORITHM,
  MAX_STORED_SUB_FINGERPRINTS,
  SUB_FINGERPRINT_STEP_S,
  SUB_FINGERPRINT_WINDOW_S,
  decodeFingerprint,
  encodeFingerprint,
  encodedFingerprintSchema,
  fingerprintDurationS,
  subFingerprintCentreS,
} from './audio-fingerprint.js';
export { AUDIO_REFERENCE_DEMUXERS, fingerprintAudioFile, type AudioFileFingerprint, type FingerprintAudioFileOptions } from './fingerprint-audio-file.js';
export { SubFingerprintIndex, type AlignmentCandidate, type CandidateOptions } from './sub-fingerprint-index.js';
export { ALIGN_DEFAULTS, alignAt, bitErrors, type AlignOptions, type AlignedSpan } from './align-fingerprints.js';
export { matchAudioReferences, type AudioReferenceMatch, type MatchAudioOptions } from './match-audio-references.js';
export {
  AUDIO_REFERENCE_ID_PATTERN,
  AudioReferences,
  audioReferenceSchema,
  type AudioReference,
  type AudioReferencePage,
  type AudioReferenceSet,
  type AudioReferenceSummary,
} from './audio-references.js';
export { audioFingerprintCheck, type AudioFingerprintCheckOptions } from './audio-fingerprint-check.js';
