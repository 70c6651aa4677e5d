// Local media: asking for camera and microphone with graceful fallbacks, switching devices,
// and screen capture. It also turns the browser's media errors into one of a few problems the
// user can understand, and into the sentence that explains it. The browser's mediaDevices is
// passed in, so the decisions can be tested without a browser.
'use strict';

/**
 * - insecure: the page is not a secure context, so the browser offers no camera at all.
 * - denied: the user or a browser policy refused access.
 * - nodevice: there is no such device.
 * - busy: the device exists but another application holds it.
 * - other: anything else (unsupported constraints, an unknown browser error).
 * @typedef {'insecure' | 'denied' | 'nodevice' | 'busy' | 'other'} MediaProblem
 */

/**
 * @param {unknown} error
 * @returns {MediaProblem}
 */
export function classifyMediaError(error) {
  const name = /** @type {{name?: string}} */ (error ?? {}).name;
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
    case 'PermissionDeniedError':
      return 'denied';
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return 'nodevice';
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return 'busy';
    default:
      return 'other';
  }
}

/**
 * The sentence shown to the user about their own media, or null when all is well.
 * @param {MediaProblem | null} problem
 * @param {{audio: boolean, video: boolean}} got What the page did obtain.
 * @returns {string | null}
 */
export function describeMediaProblem(problem, got) {
  if (!problem) return null;
  if (problem === 'insecure') {
    return 'Camera and microphone work only on a secure page. Open this link with https:// ' +
      '(most hosts give free certificates, e.g. AutoSSL or Let\u2019s Encrypt). ' +
      'Until then you can watch, listen and chat.';
  }
  const missing = got.audio ? 'camera' : got.video ? 'microphone' : 'camera and microphone';
  const consequence = got.audio
    ? 'You are in the call with audio only.'
    : got.video
      ? 'Others can see you but cannot hear you.'
      : 'Others can neither see nor hear you; you can still watch, listen and chat.';
  if (problem === 'denied') {
    return `Access to your ${missing} was blocked. ${consequence} ` +
      'To change that, allow it in the site settings next to the address bar, then rejoin.';
  }
  if (problem === 'nodevice') {
    return `No ${missing} was found. ${consequence}`;
  }
  if (problem === 'busy') {
    return `Your ${missing} is in use by another application. ${consequence}`;
  }
  return `Your ${missing} could not be started. ${consequence}`;
}

/**
 * The sentence shown when sharing the screen failed for another reason than the user's
 * refusal (a refusal, or a cancelled picker, needs no message).
 * @param {MediaProblem} problem
 * @returns {string}
 */
export function describeScreenProblem(problem) {
  if (problem === 'busy') {
    return 'Your screen could not be captured (the system or another application refused). ' +
      'Others still see your camera. Try sharing again, or another window.';
  }
  return 'This browser could not share your screen. Others still see your camera.';
}

/**
 * @typedef {object} LocalMedia
 * @property {MediaStreamTrack | null} audio
 * @property {MediaStreamTrack | null} video
 * @property {MediaProblem | null} problem Why something asked for is missing.
 */

/** @type {MediaTrackConstraints} */
const VIDEO_CONSTRAINTS = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };

/** @type {MediaTrackConstraints} */
const AUDIO_CONSTRAINTS = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

/**
 * Asks for camera and microphone together (one permission prompt), then, unless the user
 * refused, for each alone, so a user without a camera (or whose camera is busy) still takes
 * part with the microphone.
 * @param {MediaDevices | undefined} mediaDevices
 * @param {{audioDeviceId?: string, videoDeviceId?: string}} [preferred]
 * @returns {Promise<LocalMedia>}
 */
export async function openLocalMedia(mediaDevices, preferred = {}) {
  if (!mediaDevices?.getUserMedia) return { audio: null, video: null, problem: 'insecure' };
  const audio = withDevice(AUDIO_CONSTRAINTS, preferred.audioDeviceId);
  const video = withDevice(VIDEO_CONSTRAINTS, preferred.videoDeviceId);
  let firstError;
  try {
    const stream = await mediaDevices.getUserMedia({ audio, video });
    return { audio: stream.getAudioTracks()[0] ?? null, video: stream.getVideoTracks()[0] ?? null, problem: null };
  } catch (error) {
    firstError = error;
  }
  const problem = classifyMediaError(firstError);
  // After a refusal, asking again would only put another prompt in front of a user who said no.
  if (problem === 'denied') return { audio: null, video: null, problem };
  for (const constraints of [{ audio }, { video }]) {
    try {
      const stream = await mediaDevices.getUserMedia(constraints);
      return {
        audio: stream.getAudioTracks()[0] ?? null,
        video: stream.getVideoTracks()[0] ?? null,
        problem,
      };
    } catch {
      // Try the other kind; the first error is the one that explains the situation.
    }
  }
  return { audio: null, video: null, problem };
}

/**
 * Opens one device of a kind, for a device change or for turning a missing device on later.
 * @param {MediaDevices} mediaDevices
 * @param {'audio' | 'video'} kind
 * @param {string} [deviceId]
 * @returns {Promise<MediaStreamTrack>}
 */
export async function openTrack(mediaDevices, kind, deviceId) {
  const constraints = kind === 'audio'
    ? { audio: withDevice(AUDIO_CONSTRAINTS, deviceId) }
    : { video: withDevice(VIDEO_CONSTRAINTS, deviceId) };
  const stream = await mediaDevices.getUserMedia(constraints);
  const track = kind === 'audio' ? stream.getAudioTracks()[0] : stream.getVideoTracks()[0];
  if (!track) throw Object.assign(new Error(`no ${kind} track`), { name: 'NotFoundError' });
  return track;
}

/**
 * @param {MediaDevices | undefined} mediaDevices
 * @returns {Promise<{audio: MediaDeviceInfo[], video: MediaDeviceInfo[]}>}
 */
export async function listDevices(mediaDevices) {
  if (!mediaDevices?.enumerateDevices) return { audio: [], video: [] };
  const devices = await mediaDevices.enumerateDevices();
  return {
    audio: devices.filter((d) => d.kind === 'audioinput' && d.deviceId),
    video: devices.filter((d) => d.kind === 'videoinput' && d.deviceId),
  };
}

/**
 * @param {MediaDevices | undefined} mediaDevices
 * @returns {boolean}
 */
export function canShareScreen(mediaDevices) {
  return typeof mediaDevices?.getDisplayMedia === 'function';
}

/**
 * @param {MediaDevices} mediaDevices
 * @returns {Promise<MediaStreamTrack>}
 */
export async function openScreen(mediaDevices) {
  // Phones (iOS Safari, Android browsers) have no getDisplayMedia at all.
  if (typeof mediaDevices.getDisplayMedia !== 'function') {
    throw Object.assign(new Error('getDisplayMedia is not available'), { name: 'NotSupportedError' });
  }
  const stream = await mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
  const track = stream.getVideoTracks()[0];
  if (!track) throw new Error('no screen track');
  // Screens are mostly text: keep them sharp rather than smooth.
  if ('contentHint' in track) track.contentHint = 'detail';
  return track;
}

/**
 * @param {MediaTrackConstraints} base
 * @param {string | undefined} deviceId
 * @returns {MediaTrackConstraints}
 */
function withDevice(base, deviceId) {
  return deviceId ? { ...base, deviceId: { exact: deviceId } } : { ...base };
}
