export { sampleFrames, DEFAULT_SAMPLE_SHORT_SIDE_PX, type FrameSamplingOptions, type SampledFrame } from './frame-sampler.js';
export { sharedFrames, type SharedFrameOptions } from './shared-frames.js';
export { tensorflowRuntime } from './tensorflow-runtime.js';
export { nudityClassifier, NUDITY_LABELS, type NudityClassifier, type NudityLabel, type NudityModelSource, type NudityScores } from './nudity-classifier.js';
export { faceDetector, bundledFaceModelFolder, type FaceBox, type FaceDetector } from './face-detector.js';
export { nudityCheck, explicitScore, type NudityCheckOptions } from './nudity-check.js';
export { facesCheck, type FacesCheckOptions, type FacesOnFrame } from './faces-check.js';
export { saveEvidence, readEvidence, deleteEvidence, evidencePrefix, type EvidenceEntry, type EvidenceOptions } from './check-evidence.js';
export { modelArtifactsFromFolder } from './model-artifacts.js';
