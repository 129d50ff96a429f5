/* The door page: scans from a handheld scanner (it types the code and Enter), typed codes and
   the camera; the answer fills the screen, green or red, with a tone for each result.
   No third-party code: the camera frames are decoded by the browser's BarcodeDetector where
   there is one, else posted to the server, which reads them with zxing-cpp. */
(function () {
  "use strict";
  var root = document.getElementById("door");
  if (!root) { return; }
  var form = document.getElementById("scan-form");
  var input = document.getElementById("code");
  var doorName = document.getElementById("door-name");
  var panel = document.getElementById("door-result");
  var label = document.getElementById("door-result-label");
  var message = document.getElementById("door-result-message");
  var status = document.getElementById("door-status");
  var csrf = form.elements.csrf_token.value;
  var hideTimer = null;
  var audio = null;
  var lastCode = "";
  var lastAt = 0;
  var busy = false;

  var saved = window.localStorage && localStorage.getItem("mierloos-deur");
  if (saved) { doorName.value = saved; }
  doorName.addEventListener("change", function () {
    if (window.localStorage) { localStorage.setItem("mierloos-deur", doorName.value.trim()); }
  });

  function fields(extra) {
    var data = new FormData();
    data.append("csrf_token", csrf);
    data.append("door", doorName.value.trim() || "Deur");
    Object.keys(extra).forEach(function (key) { data.append(key, extra[key]); });
    return data;
  }

  function post(url, data) {
    return fetch(url, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) {
          var text = body && body.error && body.error.message;
          throw new Error(text || "De server antwoordde met " + response.status + ".");
        }
        return body;
      });
    });
  }

  // Tones, not audio files: a rising pair for welcome, low buzzes for a refusal.
  var TONES = {
    admitted: [[660, 0.09], [990, 0.16]],
    already_admitted: [[220, 0.18], [0, 0.06], [220, 0.18], [0, 0.06], [220, 0.18]],
    other_performance: [[330, 0.15], [247, 0.3]],
    refunded: [[196, 0.45]],
    cancelled: [[196, 0.45]],
    unpaid: [[262, 0.2], [196, 0.3]],
    unknown: [[150, 0.5]],
    undone: [[523, 0.12], [392, 0.12]],
    error: [[120, 0.6]]
  };

  function beep(kind) {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      audio = audio || new Context();
      var at = audio.currentTime;
      (TONES[kind] || TONES.error).forEach(function (tone) {
        if (tone[0]) {
          var osc = audio.createOscillator();
          var gain = audio.createGain();
          osc.type = kind === "admitted" ? "sine" : "square";
          osc.frequency.value = tone[0];
          gain.gain.value = 0.2;
          osc.connect(gain);
          gain.connect(audio.destination);
          osc.start(at);
          osc.stop(at + tone[1]);
        }
        at += tone[1];
      });
    } catch (e) { /* no sound is no reason to fail the scan */ }
  }

  function show(ok, title, text, kind) {
    panel.className = "door-result " + (ok ? "door-ok" : "door-bad");
    panel.setAttribute("data-result", kind);
    label.textContent = title;
    message.textContent = text || "";
    panel.hidden = false;
    beep(kind);
    window.clearTimeout(hideTimer);
    hideTimer = window.setTimeout(hide, ok ? 2500 : 4000);
  }

  function hide() {
    panel.hidden = true;
    input.focus();
  }

  function answer(result) {
    show(result.admitted, result.label, result.message, result.result);
    refreshCounts();
  }

  function failed(error) {
    show(false, "Geen antwoord", error.message, "error");
  }

  function scan(code) {
    code = code.trim();
    if (!code) { return; }
    post(root.getAttribute("data-scan-url"), fields({ code: code }))
      .then(answer, failed)
      .then(function () { input.focus(); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var code = input.value;
    input.value = "";
    scan(code);
    input.focus();
  });
  panel.addEventListener("click", hide);
  document.addEventListener("keydown", function (event) {
    // A scanner types into whatever has focus: bring it back to the code field.
    if (document.activeElement !== input && document.activeElement !== doorName &&
        event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) {
      input.focus();
    }
  });

  document.getElementById("undo-button").addEventListener("click", function () {
    post(root.getAttribute("data-undo-url"), fields({})).then(function (result) {
      show(result.undone, result.undone ? "Teruggedraaid" : "Niets terug te draaien",
        result.message, result.undone ? "undone" : "unknown");
      refreshCounts();
    }, failed);
  });

  function refreshCounts() {
    fetch(root.getAttribute("data-counts-url"), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) { return response.ok ? response.json() : null; })
      .then(function (counts) {
        if (!counts) { return; }
        document.getElementById("door-total").textContent =
          counts.admitted + " van " + counts.sold + " binnen";
        var body = document.getElementById("door-counts");
        body.textContent = "";
        counts.categories.forEach(function (c) {
          var row = document.createElement("tr");
          [c.category_name, String(c.admitted), String(c.sold)].forEach(function (text, i) {
            var cell = document.createElement(i === 0 ? "th" : "td");
            if (i === 0) { cell.scope = "row"; } else { cell.className = "amount"; }
            cell.textContent = text;
            row.appendChild(cell);
          });
          body.appendChild(row);
        });
      }, function () { /* the next poll tries again */ });
  }
  refreshCounts();
  window.setInterval(refreshCounts, 5000);

  // --- camera -------------------------------------------------------------------------------
  var video = document.getElementById("camera");
  var cameraButton = document.getElementById("camera-button");
  var stream = null;
  var detector = null;
  var canvas = document.createElement("canvas");

  function fromCamera(code) {
    var now = Date.now();
    if (code === lastCode && now - lastAt < 3000) { return; }  // the same ticket in view
    lastCode = code;
    lastAt = now;
    scan(code);
  }

  function serverFrame() {
    var width = Math.min(video.videoWidth, 1280);
    if (!width) { return Promise.resolve(); }
    canvas.width = width;
    canvas.height = Math.round(video.videoHeight * width / video.videoWidth);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", 0.85); })
      .then(function (blob) {
        if (!blob) { return; }
        var data = fields({});
        data.append("frame", blob, "frame.jpg");
        return post(root.getAttribute("data-frame-url"), data).then(function (result) {
          if (result.result) {
            lastAt = Date.now();
            answer(result);
          }
        });
      });
  }

  function tick() {
    if (!stream) { return; }
    if (busy || !panel.hidden) { window.setTimeout(tick, 250); return; }
    busy = true;
    var step = detector
      ? detector.detect(video).then(function (codes) {
          if (codes.length) { fromCamera(codes[0].rawValue); }
        })
      : serverFrame();
    step.catch(function (error) { status.textContent = error.message; })
      .then(function () { busy = false; window.setTimeout(tick, detector ? 150 : 700); });
  }

  function stopCamera() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    video.hidden = true;
    cameraButton.textContent = "Camera aan";
  }

  cameraButton.addEventListener("click", function () {
    if (stream) { stopCamera(); input.focus(); return; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      status.textContent = "Deze browser geeft geen camera; gebruik de scanner of typ de code.";
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        cameraButton.textContent = "Camera uit";
        if ("BarcodeDetector" in window) {
          try { detector = new window.BarcodeDetector({ formats: ["qr_code"] }); }
          catch (e) { detector = null; }
        }
        status.textContent = detector ? "Camera aan: de browser leest de QR-code."
          : "Camera aan: de server leest de QR-code.";
        return video.play();
      })
      .then(function () { if (stream) { tick(); } })
      .catch(function (error) {
        stopCamera();
        status.textContent = "Geen camera: " + error.message;
      });
  });

  input.focus();
}());
