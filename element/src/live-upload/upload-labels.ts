import { labelLocale } from '../labels.js';

/**
 * The strings of `<live-upload>` in one locale. `{name}` placeholders are filled with plain text
 * (see `formatLabel`); the template renders them escaped.
 */
export interface LiveUploadLabels {
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
}

export const LIVE_UPLOAD_LABELS = {
  en: {
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
    failed: 'Upload failed: {message}',
    cancelled: 'Upload cancelled',
    nothingToClip: 'Nothing to clip yet: let the stream play a moment',
    noRecorder: 'Recording is not possible here: {message}',
    error: 'Something went wrong: {message}',
  },
  de: {
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
    failed: 'Upload fehlgeschlagen: {message}',
    cancelled: 'Upload abgebrochen',
    nothingToClip: 'Noch nichts zum Clippen: Lassen Sie den Stream kurz laufen',
    noRecorder: 'Aufnahme hier nicht möglich: {message}',
    error: 'Etwas ist schiefgegangen: {message}',
  },
  fr: {
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
    failed: 'Échec de l’envoi\u00a0: {message}',
    cancelled: 'Envoi annulé',
    nothingToClip: 'Rien à extraire pour l’instant\u00a0: laissez le direct tourner un moment',
    noRecorder: 'Enregistrement impossible ici\u00a0: {message}',
    error: 'Une erreur est survenue\u00a0: {message}',
  },
} as const satisfies Record<string, LiveUploadLabels>;

/** Labels for `lang` (`de-CH` -> `de`, English when there is no row), with a page's overrides on top. */
export function resolveUploadLabels(lang: string, overrides?: Partial<LiveUploadLabels>): LiveUploadLabels {
  const locale = labelLocale(lang);
  return { ...(Object.hasOwn(LIVE_UPLOAD_LABELS, locale) ? LIVE_UPLOAD_LABELS[locale] : LIVE_UPLOAD_LABELS.en), ...overrides };
}

/** `m:ss` for timers and trim handles. */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}
