// The PeerJS anchor's call: a full mesh with PeerJS's media calls. The page registers with the
// signaling daemon under "<room>-<random>" while the camera opens; once both are ready it lists
// the daemon's peers (discovery) and calls everyone of its room, and answers whoever calls it.
// Same STUN configuration as webrtc-cgi's default, so both systems gather the same candidates.
// It is the anchor, not a product: no reconnects, no leave handling beyond PeerJS's own.
'use strict';

(() => {
  const params = new URLSearchParams(location.search);
  const room = params.get('room') || 'room';
  const port = Number(params.get('port'));
  const myId = `${room}-${Math.random().toString(36).slice(2, 12)}`;
  const tiles = document.getElementById('tiles');

  // Asked for at once, in parallel with the registration, and with the same constraints as
  // webrtc-cgi's page (www/media.js), so both browsers capture and encode the same frames.
  const media = navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
  });
  const peer = new Peer(myId, {
    host: '127.0.0.1',
    port,
    path: '/signal',
    config: { iceServers: [{ urls: 'stun:stun.l.google.com:19302' }] },
  });

  function show(call) {
    const figure = document.createElement('figure');
    figure.className = 'tile';
    figure.dataset.peer = call.peer;
    figure.dataset.state = 'new';
    const video = document.createElement('video');
    video.autoplay = true;
    video.muted = true;
    video.playsInline = true;
    figure.append(video);
    tiles.append(figure);
    const pc = call.peerConnection;
    if (pc) pc.addEventListener('connectionstatechange', () => { figure.dataset.state = pc.connectionState; });
    call.on('stream', (stream) => { video.srcObject = stream; });
  }

  peer.on('open', async () => {
    const stream = await media;
    document.body.dataset.peer = myId;
    document.body.dataset.state = 'live';
    peer.listAllPeers((ids) => {
      for (const id of ids) {
        if (id !== myId && id.startsWith(`${room}-`)) show(peer.call(id, stream));
      }
    });
  });
  peer.on('call', async (call) => {
    call.answer(await media);
    show(call);
  });
  peer.on('error', (error) => console.warn('peerjs:', error.type, error.message));
})();
