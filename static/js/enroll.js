// Progressive enhancement of the registration form (templates/consent/likeness_new.html).
//
// As soon as photos are chosen, each one is sent on its own to the preview API, which finds
// the faces without storing anything. The face boxes are drawn over a local preview of the
// photo, problems are shown with their code, and on a photo with several faces the person
// clicks theirs: that sets the photo's hidden `face_index` input (-1 lets the server decide).
// Without JavaScript the form submits as it is and the server shows each photo's problem.
(function () {
  "use strict";

  var form = document.querySelector("form[data-enroll]");
  if (!form || !window.fetch || !window.FormData || !window.URL || !URL.createObjectURL) {
    return;
  }
  var input = form.querySelector("input[type=file][name=photos]");
  var previews = document.getElementById("photo-previews");
  var choices = document.getElementById("face-choices");
  var previewUrl = form.dataset.previewUrl;
  var objectUrls = [];
  // One check at a time: face detection is heavy work for the server.
  var queue = Promise.resolve();

  function enqueue(task) {
    var run = queue.then(task, task);
    queue = run.catch(function () {});
    return run;
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) {
      return decodeURIComponent(match[1]);
    }
    var field = form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function requestPreview(file, faceIndex) {
    var body = new FormData();
    body.append("photos", file, file.name);
    if (faceIndex >= 0) {
      body.append("face_index", String(faceIndex));
    }
    return enqueue(function () {
      return fetch(previewUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      });
    }).then(function (response) {
      return response.json().then(
        function (data) {
          return { ok: response.ok, data: data };
        },
        function () {
          return { ok: false, data: null };
        }
      );
    });
  }

  // Give the frame the size of the image the boxes are measured on: the API's (EXIF-corrected)
  // size when known, else the natural size of the preview image.
  function sizeFrame(photo, width, height) {
    var frame = photo.frame;
    function apply(w, h) {
      if (w && h) {
        frame.style.setProperty("--pw", String(w));
        frame.style.setProperty("--ph", String(h));
      }
    }
    if (width && height) {
      apply(width, height);
      return Promise.resolve();
    }
    var image = photo.image;
    var ready = image.complete ? Promise.resolve() : image.decode ? image.decode() : Promise.resolve();
    return ready.then(
      function () {
        apply(image.naturalWidth, image.naturalHeight);
      },
      function () {}
    );
  }

  function drawFaces(photo, faces, chosen) {
    photo.frame.querySelectorAll(".face-box").forEach(function (box) {
      box.remove();
    });
    var selectable = faces.length > 1;
    faces.forEach(function (face, index) {
      var box = element(selectable ? "button" : "span", "face-box");
      box.dataset.testid = "face-box";
      box.dataset.face = String(index);
      box.style.setProperty("--x", String(face.box.x));
      box.style.setProperty("--y", String(face.box.y));
      box.style.setProperty("--w", String(face.box.width));
      box.style.setProperty("--h", String(face.box.height));
      box.title = "Face " + (index + 1);
      if (index === chosen) {
        box.classList.add("chosen");
      }
      if (selectable) {
        box.type = "button";
        box.setAttribute("aria-label", "This is the person: face " + (index + 1));
        box.setAttribute("aria-pressed", index === chosen ? "true" : "false");
        box.addEventListener("click", function () {
          choose(photo, index);
        });
      }
      photo.frame.appendChild(box);
    });
  }

  function say(photo, text, code) {
    photo.status.textContent = text;
    photo.status.classList.toggle("problem", Boolean(code));
    if (code) {
      photo.status.dataset.code = code;
    } else {
      delete photo.status.dataset.code;
    }
  }

  function show(photo, token, result, choice) {
    if (photo.token !== token) {
      return; // a newer check of this photo is under way
    }
    if (result.ok && result.data && result.data.photos && result.data.photos.length) {
      var found = result.data.photos[0];
      sizeFrame(photo, found.width, found.height).then(function () {
        drawFaces(photo, found.faces, found.chosen);
      });
      say(
        photo,
        found.faces.length > 1
          ? "The highlighted face will be registered; click another box to change."
          : "Face found: it will be registered."
      );
      return;
    }
    var error = result.data && result.data.error;
    var problem = error && error.photos && error.photos[0];
    if (!problem) {
      say(photo, "This photo could not be checked now; it will be checked when you register.");
      return;
    }
    var faces = problem.faces || [];
    sizeFrame(photo).then(function () {
      drawFaces(photo, faces, choice);
    });
    var hint = problem.code === "several_faces" ? " Click the box around the face of the person you are registering." : "";
    say(photo, problem.code + ": " + problem.message + hint, problem.code);
  }

  function check(photo, choice) {
    photo.token += 1;
    var token = photo.token;
    say(photo, choice >= 0 ? "Checking this face…" : "Looking for faces…");
    requestPreview(photo.file, choice).then(
      function (result) {
        show(photo, token, result, choice);
      },
      function () {
        if (photo.token === token) {
          say(photo, "This photo could not be checked now; it will be checked when you register.");
        }
      }
    );
  }

  function choose(photo, index) {
    photo.choice.value = String(index);
    photo.frame.querySelectorAll(".face-box").forEach(function (box) {
      var chosen = box.dataset.face === String(index);
      box.classList.toggle("chosen", chosen);
      box.setAttribute("aria-pressed", chosen ? "true" : "false");
    });
    check(photo, index);
  }

  function reset() {
    objectUrls.forEach(function (url) {
      URL.revokeObjectURL(url);
    });
    objectUrls = [];
    previews.textContent = "";
    choices.textContent = "";
  }

  input.addEventListener("change", function () {
    reset();
    Array.prototype.forEach.call(input.files, function (file, position) {
      var url = URL.createObjectURL(file);
      objectUrls.push(url);
      var figure = element("figure", "photo");
      figure.dataset.index = String(position);
      figure.dataset.testid = "photo-preview";
      var frame = element("div", "photo-frame");
      var image = element("img");
      image.src = url;
      image.alt = file.name;
      image.addEventListener("error", function () {
        frame.hidden = true; // not an image the browser can show; the status says why
      });
      frame.appendChild(image);
      figure.appendChild(frame);
      var caption = element("figcaption");
      caption.appendChild(element("span", "name", file.name));
      var status = element("span", "photo-status");
      status.setAttribute("role", "status");
      caption.appendChild(status);
      figure.appendChild(caption);
      previews.appendChild(figure);
      var choice = element("input");
      choice.type = "hidden";
      choice.name = "face_index";
      choice.value = "-1";
      choices.appendChild(choice);
      check({ file: file, frame: frame, image: image, status: status, choice: choice, token: 0 }, -1);
    });
  });
})();
