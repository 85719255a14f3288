import { labelLocale } from '../labels.js';
import { PUBLISH_LABELS, type PublishLabels } from './publish-labels.js';

/**
 * The strings of `<live-upload>` in one locale. `{name}` placeholders are filled with plain text
 * (see `formatLabel`); the template renders them escaped.
 */
export interface LiveUploadLabels extends PublishLabels {
  readonly player: string;
  readonly actions: string;
  readonly clip: string;
  readonly recordCamera: string;
  readonly recordScreen: string;
  readonly stopRecording: string;
  readonly recordingTimer: string;
  readonly recordingStarted: string;
  readonly makingClip: string;
  readonly preparing: string;
  readonly clipReady: string;
  readonly recordingReady: string;
  readonly preview: string;
  readonly trim: string;
  readonly trimStart: string;
  readonly trimEnd: string;
  readonly trimmedLength: string;
  readonly title: string;
  readonly upload: string;
  readonly discard: string;
  readonly pause: string;
  readonly resume: string;
  readonly cancel: string;
  readonly done: string;
  readonly uploadProgress: string;
  readonly prepareProgress: string;
  readonly resumeStored: string;
  readonly discardStored: string;
  readonly requesting: string;
  readonly uploading: string;
  readonly paused: string;
  readonly offline: string;
  readonly checking: string;
  readonly in_review: string;
  readonly published: string;
  readonly rejected: string;
  readonly failed: string;
  readonly cancelled: string;
  readonly nothingToClip: string;
  readonly noRecorder: string;
  readonly error: string;
  /** Less is buffered than the Clip button says: `{seconds}` is what there is. */
  readonly clipShort: string;
  readonly clipAvailable: string;
  readonly streamPaused: string;
  readonly streamEnded: string;
  readonly retry: string;
  readonly uploadDetail: string;
  readonly timeLeft: string;
  readonly watchClip: string;
  readonly errorPlayback: string;
  readonly errorClip: string;
  readonly errorClipper: string;
  readonly errorRecording: string;
  readonly errorPreparation: string;
  readonly errorNetwork: string;
  readonly errorBusy: string;
  readonly errorChannel: string;
  readonly errorTooLarge: string;
  readonly errorUnsupported: string;
  readonly errorUpload: string;
  /** The offline channel's latest replay: the button that plays it. */
  readonly watchReplay: string;
  /** The replay's `<video>`: `{channel}`. */
  readonly replayPlayer: string;
  readonly replayStarted: string;
  /** The quality menu's label, its ABR choice, a rung (`{height}`), and the announcement of a change (`{quality}`). */
  readonly replayQuality: string;
  readonly qualityAuto: string;
  readonly qualityRung: string;
  readonly qualityChanged: string;
  /** Clip on the replay: the button, the range's group label, the hint, and Make clip. */
  readonly replayClip: string;
  readonly replayRange: string;
  readonly replayRangeHint: string;
  readonly replayCut: string;
  readonly backToLive: string;
}

export const LIVE_UPLOAD_LABELS = {
  en: {
    ...PUBLISH_LABELS.en,
    player: 'Live video of {channel}',
    actions: 'Clip or record',
    clip: 'Clip last {seconds} s',
    recordCamera: 'Record camera',
    recordScreen: 'Record screen',
    stopRecording: 'Stop recording',
    recordingTimer: '{elapsed} of {max}',
    recordingStarted: 'Recording',
    makingClip: 'Making the clip',
    preparing: 'Preparing the video',
    clipReady: 'Clip ready: {seconds} s',
    recordingReady: 'Recording ready: {seconds} s',
    preview: 'Preview',
    trim: 'Trim',
    trimStart: 'Start',
    trimEnd: 'End',
    trimmedLength: '{seconds} s selected',
    title: 'Title (optional)',
    upload: 'Upload',
    discard: 'Discard',
    pause: 'Pause',
    resume: 'Resume',
    cancel: 'Cancel',
    done: 'Done',
    uploadProgress: 'Upload progress',
    prepareProgress: 'Preparation progress',
    resumeStored: 'Resume upload of {filename}',
    discardStored: 'Discard upload of {filename}',
    requesting: 'Starting the upload',
    uploading: 'Uploading: {percent}%',
    paused: 'Upload paused at {percent}%',
    offline: 'Offline: the upload continues when you are back online',
    checking: 'Uploaded: checking',
    in_review: 'Uploaded: in review',
    published: 'Published',
    rejected: 'Not accepted',
    failed: 'Upload failed',
    cancelled: 'Upload cancelled',
    nothingToClip: 'Nothing to clip yet: let the stream play a moment',
    noRecorder: 'Recording is not possible here: allow the camera or screen, or try another browser.',
    error: 'Something went wrong.',
    clipShort: 'Only {seconds} s buffered: clip {seconds} s?',
    clipAvailable: 'Clip {seconds} s',
    streamPaused: 'The stream paused. It continues here when it is back.',
    streamEnded: 'The stream has ended.',
    retry: 'Try again',
    uploadDetail: '{done} of {total} · {speed}',
    timeLeft: '{time} left',
    watchClip: 'Watch the clip',
    errorPlayback: 'The video could not play here.',
    errorClip: 'The clip could not be made.',
    errorClipper: 'Clipping is not available on this page.',
    errorRecording: 'The recording stopped unexpectedly.',
    errorPreparation: 'The video could not be prepared for upload.',
    errorNetwork: 'The connection dropped before the upload finished.',
    errorBusy: 'Too many uploads right now. Please try again in a minute.',
    errorChannel: 'This channel does not take uploads at the moment.',
    errorTooLarge: 'This video is too large to upload.',
    errorUnsupported: 'This kind of video cannot be uploaded.',
    errorUpload: 'The upload did not go through.',
    watchReplay: 'Watch the replay',
    replayPlayer: 'Replay of {channel}',
    replayStarted: 'Playing the replay',
    replayQuality: 'Quality',
    qualityAuto: 'Auto',
    qualityRung: '{height}p',
    qualityChanged: 'Quality: {quality}',
    replayClip: 'Clip from the replay',
    replayRange: 'Part of the replay to clip',
    replayRangeHint: 'Move Start and End, then make the clip: {seconds} s selected',
    replayCut: 'Make clip',
    backToLive: 'The channel is live again.',
  },
  de: {
    ...PUBLISH_LABELS.de,
    player: 'Livevideo von {channel}',
    actions: 'Clip oder Aufnahme',
    clip: 'Letzte {seconds} s clippen',
    recordCamera: 'Kamera aufnehmen',
    recordScreen: 'Bildschirm aufnehmen',
    stopRecording: 'Aufnahme beenden',
    recordingTimer: '{elapsed} von {max}',
    recordingStarted: 'Aufnahme läuft',
    makingClip: 'Clip wird erstellt',
    preparing: 'Video wird vorbereitet',
    clipReady: 'Clip fertig: {seconds} s',
    recordingReady: 'Aufnahme fertig: {seconds} s',
    preview: 'Vorschau',
    trim: 'Zuschneiden',
    trimStart: 'Anfang',
    trimEnd: 'Ende',
    trimmedLength: '{seconds} s ausgewählt',
    title: 'Titel (optional)',
    upload: 'Hochladen',
    discard: 'Verwerfen',
    pause: 'Pausieren',
    resume: 'Fortsetzen',
    cancel: 'Abbrechen',
    done: 'Fertig',
    uploadProgress: 'Upload-Fortschritt',
    prepareProgress: 'Fortschritt der Vorbereitung',
    resumeStored: 'Upload von {filename} fortsetzen',
    discardStored: 'Upload von {filename} verwerfen',
    requesting: 'Upload startet',
    uploading: 'Wird hochgeladen: {percent} %',
    paused: 'Upload bei {percent} % pausiert',
    offline: 'Offline: Der Upload geht weiter, sobald Sie wieder online sind',
    checking: 'Hochgeladen: wird geprüft',
    in_review: 'Hochgeladen: in Prüfung',
    published: 'Veröffentlicht',
    rejected: 'Nicht angenommen',
    failed: 'Upload fehlgeschlagen',
    cancelled: 'Upload abgebrochen',
    nothingToClip: 'Noch nichts zum Clippen: Lassen Sie den Stream kurz laufen',
    noRecorder: 'Aufnahme hier nicht möglich: Erlauben Sie Kamera oder Bildschirm, oder nutzen Sie einen anderen Browser.',
    error: 'Etwas ist schiefgegangen.',
    clipShort: 'Nur {seconds} s gepuffert: {seconds} s clippen?',
    clipAvailable: '{seconds} s clippen',
    streamPaused: 'Der Stream pausiert. Er geht hier weiter, sobald er zurück ist.',
    streamEnded: 'Der Stream ist beendet.',
    retry: 'Erneut versuchen',
    uploadDetail: '{done} von {total} · {speed}',
    timeLeft: 'noch {time}',
    watchClip: 'Clip ansehen',
    errorPlayback: 'Das Video lässt sich hier nicht abspielen.',
    errorClip: 'Der Clip konnte nicht erstellt werden.',
    errorClipper: 'Clippen ist auf dieser Seite nicht möglich.',
    errorRecording: 'Die Aufnahme wurde unerwartet beendet.',
    errorPreparation: 'Das Video konnte nicht für den Upload vorbereitet werden.',
    errorNetwork: 'Die Verbindung ist abgebrochen, bevor der Upload fertig war.',
    errorBusy: 'Gerade laufen zu viele Uploads. Bitte versuchen Sie es in einer Minute noch einmal.',
    errorChannel: 'Dieser Kanal nimmt gerade keine Uploads an.',
    errorTooLarge: 'Dieses Video ist zu groß zum Hochladen.',
    errorUnsupported: 'Diese Art Video kann nicht hochgeladen werden.',
    errorUpload: 'Der Upload hat nicht geklappt.',
    watchReplay: 'Aufzeichnung ansehen',
    replayPlayer: 'Aufzeichnung von {channel}',
    replayStarted: 'Die Aufzeichnung läuft',
    replayQuality: 'Qualität',
    qualityAuto: 'Automatisch',
    qualityRung: '{height}p',
    qualityChanged: 'Qualität: {quality}',
    replayClip: 'Clip aus der Aufzeichnung',
    replayRange: 'Teil der Aufzeichnung für den Clip',
    replayRangeHint: 'Anfang und Ende verschieben, dann den Clip erstellen: {seconds} s ausgewählt',
    replayCut: 'Clip erstellen',
    backToLive: 'Der Kanal ist wieder live.',
  },
  fr: {
    ...PUBLISH_LABELS.fr,
    player: 'Vidéo en direct de {channel}',
    actions: 'Extrait ou enregistrement',
    clip: 'Extraire les {seconds} dernières s',
    recordCamera: 'Enregistrer la caméra',
    recordScreen: 'Enregistrer l’écran',
    stopRecording: 'Arrêter l’enregistrement',
    recordingTimer: '{elapsed} sur {max}',
    recordingStarted: 'Enregistrement en cours',
    makingClip: 'Création de l’extrait',
    preparing: 'Préparation de la vidéo',
    clipReady: 'Extrait prêt\u00a0: {seconds} s',
    recordingReady: 'Enregistrement prêt\u00a0: {seconds} s',
    preview: 'Aperçu',
    trim: 'Découper',
    trimStart: 'Début',
    trimEnd: 'Fin',
    trimmedLength: '{seconds} s sélectionnées',
    title: 'Titre (facultatif)',
    upload: 'Envoyer',
    discard: 'Abandonner',
    pause: 'Pause',
    resume: 'Reprendre',
    cancel: 'Annuler',
    done: 'Terminé',
    uploadProgress: 'Progression de l’envoi',
    prepareProgress: 'Progression de la préparation',
    resumeStored: 'Reprendre l’envoi de {filename}',
    discardStored: 'Abandonner l’envoi de {filename}',
    requesting: 'Démarrage de l’envoi',
    uploading: 'Envoi\u00a0: {percent}\u00a0%',
    paused: 'Envoi en pause à {percent}\u00a0%',
    offline: 'Hors ligne\u00a0: l’envoi reprendra dès le retour de la connexion',
    checking: 'Envoyé\u00a0: vérification',
    in_review: 'Envoyé\u00a0: en cours de modération',
    published: 'Publié',
    rejected: 'Refusé',
    failed: 'Échec de l’envoi',
    cancelled: 'Envoi annulé',
    nothingToClip: 'Rien à extraire pour l’instant\u00a0: laissez le direct tourner un moment',
    noRecorder: 'Enregistrement impossible ici\u00a0: autorisez la caméra ou l’écran, ou essayez un autre navigateur.',
    error: 'Une erreur est survenue.',
    clipShort: 'Seulement {seconds}\u00a0s en mémoire\u00a0: extraire {seconds}\u00a0s\u00a0?',
    clipAvailable: 'Extraire {seconds}\u00a0s',
    streamPaused: 'Le direct est en pause. Il reprendra ici dès son retour.',
    streamEnded: 'Le direct est terminé.',
    retry: 'Réessayer',
    uploadDetail: '{done} sur {total} · {speed}',
    timeLeft: 'encore {time}',
    watchClip: 'Voir l’extrait',
    errorPlayback: 'La vidéo ne peut pas être lue ici.',
    errorClip: 'L’extrait n’a pas pu être créé.',
    errorClipper: 'L’extraction n’est pas disponible sur cette page.',
    errorRecording: 'L’enregistrement s’est arrêté de façon inattendue.',
    errorPreparation: 'La vidéo n’a pas pu être préparée pour l’envoi.',
    errorNetwork: 'La connexion a été coupée avant la fin de l’envoi.',
    errorBusy: 'Trop d’envois en ce moment. Réessayez dans une minute.',
    errorChannel: 'Cette chaîne n’accepte pas d’envois pour le moment.',
    errorTooLarge: 'Cette vidéo est trop lourde pour être envoyée.',
    errorUnsupported: 'Ce type de vidéo ne peut pas être envoyé.',
    errorUpload: 'L’envoi n’a pas abouti.',
    watchReplay: 'Voir la rediffusion',
    replayPlayer: 'Rediffusion de {channel}',
    replayStarted: 'Lecture de la rediffusion',
    replayQuality: 'Qualité',
    qualityAuto: 'Automatique',
    qualityRung: '{height}p',
    qualityChanged: 'Qualité\u00a0: {quality}',
    replayClip: 'Extrait de la rediffusion',
    replayRange: 'Partie de la rediffusion à extraire',
    replayRangeHint: 'Déplacez Début et Fin, puis créez l’extrait\u00a0: {seconds}\u00a0s sélectionnées',
    replayCut: 'Créer l’extrait',
    backToLive: 'La chaîne est de nouveau en direct.',
  },
} as const satisfies Record<string, LiveUploadLabels>;

/** Labels for `lang` (`de-CH` -> `de`, English when there is no row), with a page's overrides on top. */
export function resolveUploadLabels(lang: string, overrides?: Partial<LiveUploadLabels>): LiveUploadLabels {
  const locale = labelLocale(lang);
  return { ...(Object.hasOwn(LIVE_UPLOAD_LABELS, locale) ? LIVE_UPLOAD_LABELS[locale] : LIVE_UPLOAD_LABELS.en), ...overrides };
}

/** Seconds with one decimal in `lang`'s way: `10.0` (en), `10,0` (de, fr). */
export function formatSeconds(ms: number, lang: string): string {
  return new Intl.NumberFormat(localeOf(lang), { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(Math.max(0, ms) / 1000);
}

/** Whole seconds, rounded down (what a buffer holds): `5`. */
export function formatWholeSeconds(ms: number, lang: string): string {
  return new Intl.NumberFormat(localeOf(lang), { maximumFractionDigits: 0 }).format(Math.floor(Math.max(0, ms) / 1000));
}

/** Bytes as `4.2 MB` in `lang`'s way. */
export function formatBytes(bytes: number, lang: string): string {
  const [unit, size] = bytes >= 1e9 ? (['gigabyte', 1e9] as const) : bytes >= 1e6 ? (['megabyte', 1e6] as const) : (['kilobyte', 1e3] as const);
  return new Intl.NumberFormat(localeOf(lang), { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: 1 }).format(bytes / size);
}

/** A duration as `12 s` or `3 min`, in `lang`'s way. */
export function formatDuration(ms: number, lang: string): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  const [unit, value] = seconds >= 90 ? (['minute', Math.round(seconds / 60)] as const) : (['second', seconds] as const);
  return new Intl.NumberFormat(localeOf(lang), { style: 'unit', unit, unitDisplay: 'short' }).format(value);
}

/** A BCP 47 tag Intl accepts (`lang` attributes may hold anything). */
function localeOf(lang: string): string {
  try {
    return Intl.getCanonicalLocales(lang)[0] ?? 'en';
  } catch {
    return 'en';
  }
}

/** `m:ss` for timers and trim handles. */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}
