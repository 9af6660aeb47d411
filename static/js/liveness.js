// The live selfie check in the browser (templates/consent/likeness_verify.html).
//
// "Start" asks the server for a challenge (head turns in an order, a code), opens the camera,
// shows each instruction in turn while MediaRecorder records, then sends the video with the
// challenge's token to the API and shows the verdict with its reasons. Without a camera (or
// MediaRecorder), the person can send a video file recorded another way, with the same token.
(function () {
  "use strict";

  var root = document.querySelector("[data-liveness]");
  if (!root || !window.fetch || !window.FormData) {
    return;
  }
  var challengeUrl = root.dataset.challengeUrl;
  var submitUrl = root.dataset.submitUrl;
  var start = root.querySelector("[data-testid=liveness-start]");
  var preview = root.querySelector("video");
  var say = root.querySelector("[data-testid=liveness-instruction]");
  var codeBox = root.querySelector("[data-testid=liveness-code]");
  var result = root.querySelector("[data-testid=liveness-result]");
  var fileForm = root.querySelector("form[data-liveness-file]");
  var token = null;
  var STEP_SECONDS = 2.0;
  var WORDS = { left: "Turn your head to your left", right: "Turn your head to your right", up: "Look up" };
  var REASONS = {
    no_face: "No face was seen in the video.",
    several_people: "More than one person was seen: record yourself alone.",
    not_the_person_in_the_photos: "The face in the video is not the face in this likeness's photos.",
    identity_unsure: "The face is close to the photos but not close enough to be sure: a moderator will look.",
    challenge_not_followed: "The head turns were not the ones asked, in that order.",
    no_head_turn: "The head did not turn.",
    no_enrolled_face: "This likeness has no enrolled face to compare with."
  };

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) {
      return decodeURIComponent(match[1]);
    }
    var field = root.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: body
    }).then(function (response) {
      return response.json().then(function (data) {
        return { ok: response.ok, data: data };
      });
    });
  }

  function show(text) {
    say.textContent = text;
  }

  function wait(seconds) {
    return new Promise(function (resolve) {
      setTimeout(resolve, seconds * 1000);
    });
  }

  function verdict(answer) {
    result.hidden = false;
    result.textContent = "";
    var head = document.createElement("p");
    var data = answer.data;
    if (!answer.ok) {
      var error = (data && data.error) || {};
      head.textContent = "Not accepted: " + (error.message || "the video could not be checked.");
      var fields = error.fields || {};
      Object.keys(fields).forEach(function (name) {
        fields[name].forEach(function (item) {
          var line = document.createElement("p");
          line.textContent = item.message || String(item);
          result.appendChild(line);
        });
      });
      result.insertBefore(head, result.firstChild);
      result.dataset.outcome = "error";
      return;
    }
    result.dataset.outcome = data.outcome;
    head.textContent = {
      passed: "Verified: it is you. This likeness is now yours to consent with.",
      failed: "Not verified.",
      review: "A moderator will look at this check."
    }[data.outcome] || data.outcome;
    result.appendChild(head);
    (data.reasons || []).forEach(function (code) {
      var line = document.createElement("p");
      line.textContent = REASONS[code] || code;
      result.appendChild(line);
    });
  }

  function send(blob, name) {
    var body = new FormData();
    body.append("token", token);
    body.append("video", blob, name);
    show("Checking the video…");
    return post(submitUrl, body).then(function poll(answer) {
      if (answer.ok && answer.data.outcome === "analyzing") {
        // A worker is still judging the video: ask again in a moment.
        return wait(2).then(function () {
          return fetch(submitUrl + answer.data.id + "/", {
            credentials: "same-origin",
            headers: { Accept: "application/json" }
          }).then(function (response) {
            return response.json().then(function (data) {
              return poll({ ok: response.ok, data: data });
            });
          });
        });
      }
      show(answer.ok ? "" : "Ask for a new challenge to try again.");
      verdict(answer);
    });
  }

  function record(stream, steps) {
    var chunks = [];
    var type = ["video/webm;codecs=vp8", "video/webm", "video/mp4"].filter(function (candidate) {
      return window.MediaRecorder && MediaRecorder.isTypeSupported && MediaRecorder.isTypeSupported(candidate);
    })[0];
    var recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    recorder.ondataavailable = function (event) {
      if (event.data && event.data.size) {
        chunks.push(event.data);
      }
    };
    var stopped = new Promise(function (resolve) {
      recorder.onstop = resolve;
    });
    recorder.start(250);
    var script = Promise.resolve().then(function () {
      show("Look at the camera");
      return wait(STEP_SECONDS);
    });
    steps.forEach(function (step) {
      script = script.then(function () {
        show(WORDS[step] || step);
        return wait(STEP_SECONDS);
      }).then(function () {
        show("Look at the camera");
        return wait(STEP_SECONDS / 2);
      });
    });
    return script.then(function () {
      recorder.stop();
      return stopped;
    }).then(function () {
      stream.getTracks().forEach(function (track) {
        track.stop();
      });
      preview.srcObject = null;
      preview.hidden = true;
      return send(new Blob(chunks, { type: recorder.mimeType || "video/webm" }), "selfie.webm");
    });
  }

  start.addEventListener("click", function () {
    start.disabled = true;
    result.hidden = true;
    post(challengeUrl, null).then(function (answer) {
      if (!answer.ok) {
        verdict(answer);
        start.disabled = false;
        return null;
      }
      token = answer.data.token;
      codeBox.textContent = answer.data.code;
      root.querySelector("[data-testid=liveness-challenge]").hidden = false;
      if (fileForm) {
        fileForm.hidden = false;
      }
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) {
        show("This browser cannot record: record a video of the steps below and send it as a file.");
        return null;
      }
      return navigator.mediaDevices.getUserMedia({ video: true, audio: false }).then(function (stream) {
        preview.srcObject = stream;
        preview.hidden = false;
        return record(stream, answer.data.steps);
      }, function () {
        show("The camera could not be opened: record a video of the steps below and send it as a file.");
      });
    }).then(function () {
      start.disabled = false;
    });
  });

  if (fileForm) {
    fileForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var file = fileForm.querySelector("input[type=file]").files[0];
      if (file && token) {
        send(file, file.name);
      }
    });
  }
})();
