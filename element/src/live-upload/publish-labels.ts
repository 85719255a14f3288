/**
 * The strings of `<live-upload publish>` (going live with WHIP) in one locale; part of
 * `LiveUploadLabels`, so a page overrides them with the same `labels` property.
 */
export interface PublishLabels {
  /** The publisher panel's group label. */
  readonly publishPanel: string;
  readonly publishPreview: string;
  readonly publishStartCamera: string;
  readonly publishStopCamera: string;
  readonly publishVideoSource: string;
  /** A camera the browser gives no name (before permission): `{number}`. */
  readonly publishCameraNumbered: string;
  readonly publishScreen: string;
  readonly publishMicrophone: string;
  readonly publishMicrophoneNumbered: string;
  readonly publishNoMicrophone: string;
  readonly publishLevel: string;
  readonly publishGoLive: string;
  readonly publishEnd: string;
  /** Announced (polite live region) on each change of the publisher's state. */
  readonly publishPreviewing: string;
  readonly publishConnecting: string;
  readonly publishLive: string;
  /** `{seconds}` until the next attempt, `{attempt}` its number. */
  readonly publishReconnecting: string;
  readonly publishEnding: string;
  readonly publishEnded: string;
  /** The connection line: `{state}` (one of the words below) and `{bitrate}`. */
  readonly publishConnection: string;
  readonly publishConnectionWithBitrate: string;
  readonly publishStateNew: string;
  readonly publishStateConnecting: string;
  readonly publishStateConnected: string;
  readonly publishStateDisconnected: string;
  readonly publishStateFailed: string;
  readonly publishStateClosed: string;
  readonly errorPublishGrant: string;
  readonly errorPublishForbidden: string;
  readonly errorPublishConflict: string;
  readonly errorPublishCodec: string;
  readonly errorPublishTooLarge: string;
  readonly errorPublishBusy: string;
  readonly errorPublishNetwork: string;
  readonly errorPublishDevice: string;
  readonly errorPublishConnection: string;
  readonly errorPublish: string;
}

export const PUBLISH_LABELS = {
  en: {
    publishPanel: 'Go live',
    publishPreview: 'Your camera preview',
    publishStartCamera: 'Start camera',
    publishStopCamera: 'Stop camera',
    publishVideoSource: 'Video source',
    publishCameraNumbered: 'Camera {number}',
    publishScreen: 'Share screen',
    publishMicrophone: 'Microphone',
    publishMicrophoneNumbered: 'Microphone {number}',
    publishNoMicrophone: 'No microphone',
    publishLevel: 'Microphone level',
    publishGoLive: 'Go live',
    publishEnd: 'End broadcast',
    publishPreviewing: 'Preview: you are not live yet',
    publishConnecting: 'Connecting to go live',
    publishLive: 'You are live',
    publishReconnecting: 'Connection lost: reconnecting in {seconds} s (attempt {attempt})',
    publishEnding: 'Ending the broadcast',
    publishEnded: 'The broadcast has ended',
    publishConnection: 'Connection: {state}',
    publishConnectionWithBitrate: 'Connection: {state} · sending {bitrate}',
    publishStateNew: 'not connected',
    publishStateConnecting: 'connecting',
    publishStateConnected: 'connected',
    publishStateDisconnected: 'interrupted',
    publishStateFailed: 'failed',
    publishStateClosed: 'closed',
    errorPublishGrant: 'The permission to go live is missing or has expired. Reload the page and try again.',
    errorPublishForbidden: 'This page may not go live on this channel.',
    errorPublishConflict: 'This channel is already live from somewhere else. End that broadcast first.',
    errorPublishCodec: 'This browser cannot send video the server takes (H.264 or VP8, with Opus sound).',
    errorPublishTooLarge: 'The connection offer was too large for the server.',
    errorPublishBusy: 'The server is busy. Please try again in a minute.',
    errorPublishNetwork: 'The server could not be reached to go live.',
    errorPublishDevice: 'The camera, screen or microphone could not be started: allow it, or pick another one.',
    errorPublishConnection: 'The video connection to the server could not be made.',
    errorPublish: 'Going live did not work.',
  },
  de: {
    publishPanel: 'Live gehen',
    publishPreview: 'Vorschau Ihrer Kamera',
    publishStartCamera: 'Kamera einschalten',
    publishStopCamera: 'Kamera ausschalten',
    publishVideoSource: 'Videoquelle',
    publishCameraNumbered: 'Kamera {number}',
    publishScreen: 'Bildschirm teilen',
    publishMicrophone: 'Mikrofon',
    publishMicrophoneNumbered: 'Mikrofon {number}',
    publishNoMicrophone: 'Kein Mikrofon',
    publishLevel: 'Mikrofonpegel',
    publishGoLive: 'Live gehen',
    publishEnd: 'Übertragung beenden',
    publishPreviewing: 'Vorschau: Sie sind noch nicht live',
    publishConnecting: 'Verbindung zum Live-Gehen wird aufgebaut',
    publishLive: 'Sie sind live',
    publishReconnecting: 'Verbindung unterbrochen: neuer Versuch in {seconds} s (Versuch {attempt})',
    publishEnding: 'Übertragung wird beendet',
    publishEnded: 'Die Übertragung ist beendet',
    publishConnection: 'Verbindung: {state}',
    publishConnectionWithBitrate: 'Verbindung: {state} · sendet {bitrate}',
    publishStateNew: 'nicht verbunden',
    publishStateConnecting: 'wird aufgebaut',
    publishStateConnected: 'verbunden',
    publishStateDisconnected: 'unterbrochen',
    publishStateFailed: 'fehlgeschlagen',
    publishStateClosed: 'geschlossen',
    errorPublishGrant: 'Die Berechtigung zum Live-Gehen fehlt oder ist abgelaufen. Laden Sie die Seite neu und versuchen Sie es noch einmal.',
    errorPublishForbidden: 'Diese Seite darf auf diesem Kanal nicht live gehen.',
    errorPublishConflict: 'Dieser Kanal ist bereits von anderswo live. Beenden Sie zuerst diese Übertragung.',
    errorPublishCodec: 'Dieser Browser kann kein Video senden, das der Server annimmt (H.264 oder VP8, mit Opus-Ton).',
    errorPublishTooLarge: 'Das Verbindungsangebot war für den Server zu groß.',
    errorPublishBusy: 'Der Server ist ausgelastet. Bitte versuchen Sie es in einer Minute noch einmal.',
    errorPublishNetwork: 'Der Server war zum Live-Gehen nicht erreichbar.',
    errorPublishDevice: 'Kamera, Bildschirm oder Mikrofon ließ sich nicht starten: Erlauben Sie den Zugriff oder wählen Sie ein anderes Gerät.',
    errorPublishConnection: 'Die Videoverbindung zum Server kam nicht zustande.',
    errorPublish: 'Live gehen hat nicht geklappt.',
  },
  fr: {
    publishPanel: 'Passer en direct',
    publishPreview: 'Aperçu de votre caméra',
    publishStartCamera: 'Allumer la caméra',
    publishStopCamera: 'Éteindre la caméra',
    publishVideoSource: 'Source vidéo',
    publishCameraNumbered: 'Caméra {number}',
    publishScreen: 'Partager l’écran',
    publishMicrophone: 'Micro',
    publishMicrophoneNumbered: 'Micro {number}',
    publishNoMicrophone: 'Pas de micro',
    publishLevel: 'Niveau du micro',
    publishGoLive: 'Passer en direct',
    publishEnd: 'Terminer le direct',
    publishPreviewing: 'Aperçu\u00a0: vous n’êtes pas encore en direct',
    publishConnecting: 'Connexion pour passer en direct',
    publishLive: 'Vous êtes en direct',
    publishReconnecting: 'Connexion perdue\u00a0: nouvel essai dans {seconds}\u00a0s (essai {attempt})',
    publishEnding: 'Fin du direct en cours',
    publishEnded: 'Le direct est terminé',
    publishConnection: 'Connexion\u00a0: {state}',
    publishConnectionWithBitrate: 'Connexion\u00a0: {state} · envoi {bitrate}',
    publishStateNew: 'non connectée',
    publishStateConnecting: 'en cours',
    publishStateConnected: 'établie',
    publishStateDisconnected: 'interrompue',
    publishStateFailed: 'échouée',
    publishStateClosed: 'fermée',
    errorPublishGrant: 'L’autorisation de passer en direct manque ou a expiré. Rechargez la page et réessayez.',
    errorPublishForbidden: 'Cette page ne peut pas passer en direct sur cette chaîne.',
    errorPublishConflict: 'Cette chaîne est déjà en direct depuis ailleurs. Terminez d’abord ce direct.',
    errorPublishCodec: 'Ce navigateur ne peut pas envoyer une vidéo que le serveur accepte (H.264 ou VP8, avec un son Opus).',
    errorPublishTooLarge: 'L’offre de connexion était trop grande pour le serveur.',
    errorPublishBusy: 'Le serveur est occupé. Réessayez dans une minute.',
    errorPublishNetwork: 'Le serveur n’a pas pu être joint pour passer en direct.',
    errorPublishDevice: 'La caméra, l’écran ou le micro n’a pas pu démarrer\u00a0: autorisez-le, ou choisissez-en un autre.',
    errorPublishConnection: 'La connexion vidéo avec le serveur n’a pas pu s’établir.',
    errorPublish: 'Le passage en direct n’a pas abouti.',
  },
} as const satisfies Record<'en' | 'de' | 'fr', PublishLabels>;

/** The error codes `<live-upload publish>` reports (`live-error`), each with its sentence. */
export const PUBLISH_ERRORS = {
  publish_grant: 'errorPublishGrant',
  publish_forbidden: 'errorPublishForbidden',
  publish_conflict: 'errorPublishConflict',
  publish_codec: 'errorPublishCodec',
  publish_too_large: 'errorPublishTooLarge',
  publish_busy: 'errorPublishBusy',
  publish_network: 'errorPublishNetwork',
  publish_server: 'errorPublish',
  publish_device: 'errorPublishDevice',
  publish_connection: 'errorPublishConnection',
} as const satisfies Readonly<Record<string, keyof PublishLabels>>;

export type PublishErrorCode = keyof typeof PUBLISH_ERRORS;

/** The sentence for a publish error code (`errorPublish` for one not in the table). */
export function publishErrorLabel(code: string): keyof PublishLabels {
  return Object.hasOwn(PUBLISH_ERRORS, code) ? PUBLISH_ERRORS[code as PublishErrorCode] : 'errorPublish';
}
