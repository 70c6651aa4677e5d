// The camera and microphone dialog: two selects filled from enumerateDevices (refreshed while
// the dialog is open and a device comes or goes), with the call's current devices selected;
// a choice switches the call to that device.
'use strict';

import { listDevices } from '../rtc/media.js';

/**
 * @typedef {object} DeviceCall
 * @property {(kind: 'audio' | 'video') => string | null} currentDeviceId
 * @property {(kind: 'audio' | 'video', deviceId: string) => Promise<void>} chooseDevice
 */

/**
 * @param {import('./tiles.js').Page} page
 */
export function createDevicesDialog(page) {
  const { doc, win, $ } = page;
  const devicesDialog = /** @type {HTMLDialogElement} */ ($('devices-dialog'));
  const cameraSelect = /** @type {HTMLSelectElement} */ ($('camera-select'));
  const micSelect = /** @type {HTMLSelectElement} */ ($('mic-select'));

  /**
   * @param {HTMLSelectElement} select
   * @param {MediaDeviceInfo[]} list
   * @param {string | null} current
   * @param {string} noun
   */
  function fill(select, list, current, noun) {
    select.replaceChildren();
    list.forEach((device, index) => {
      const option = doc.createElement('option');
      option.value = device.deviceId;
      option.textContent = device.label || `${noun} ${index + 1}`;
      option.selected = device.deviceId === current;
      select.append(option);
    });
    if (list.length === 0) {
      const option = doc.createElement('option');
      option.textContent = `No ${noun.toLowerCase()} found`;
      option.value = '';
      select.append(option);
    }
    select.disabled = list.length === 0;
  }

  /** @param {DeviceCall} call */
  async function fillDevices(call) {
    const devices = await listDevices(win.navigator.mediaDevices).catch(() => ({ audio: [], video: [] }));
    fill(cameraSelect, devices.video, call.currentDeviceId('video'), 'Camera');
    fill(micSelect, devices.audio, call.currentDeviceId('audio'), 'Microphone');
    $('devices-note').textContent = win.isSecureContext
      ? ''
      : 'Devices are available only when the page is opened with https://.';
  }

  return {
    /** @param {DeviceCall} call */
    bind(call) {
      $('devices').addEventListener('click', async () => {
        await fillDevices(call);
        devicesDialog.showModal();
      });
      $('devices-close').addEventListener('click', () => devicesDialog.close());
      cameraSelect.addEventListener('change', () => {
        if (cameraSelect.value) call.chooseDevice('video', cameraSelect.value);
      });
      micSelect.addEventListener('change', () => {
        if (micSelect.value) call.chooseDevice('audio', micSelect.value);
      });
      win.navigator.mediaDevices?.addEventListener?.('devicechange', () => {
        if (devicesDialog.open) fillDevices(call);
      });
    },
  };
}
