// Live progress of one generation (templates/generation/generation_detail.html).
//
// Polls GET /api/v1/generations/<id>/ every second and updates the status, the progress bar,
// the plain-words reasons of a block and, once released, the output and its download link,
// without reloading the page. It stops at a final status. Without JavaScript the page shows
// the status it was rendered with (reload to refresh).
(function () {
  "use strict";

  var root = document.getElementById("generation");
  if (!root || !window.fetch) {
    return;
  }
  var apiUrl = root.dataset.apiUrl;
  var finals = (root.dataset.finalStatuses || "").split(",");
  var labelsNode = document.getElementById("status-labels");
  var labels = labelsNode ? JSON.parse(labelsNode.textContent) : {};
  var statusNode = root.querySelector("[data-testid=status]");
  var progress = root.querySelector("[data-testid=progress]");
  var progressText = root.querySelector("[data-testid=progress-text]");
  var explanation = root.querySelector("[data-testid=explanation]");
  var reasonsList = root.querySelector("[data-testid=reasons]");
  var output = root.querySelector("[data-testid=output]");
  var INTERVAL = 1000;

  var EXPLAIN = {
    checking: "The gate is checking the request: the people in it, their consent, the prompt and the reference.",
    blocked: "This request was blocked, because:",
    withheld: "This output was withheld.",
    in_review: "A moderator will review this request before anything is generated or released.",
    awaiting_consent: "Waiting for the people in it to approve this use.",
    failed: "The generation failed."
  };

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function showStatus(data) {
    statusNode.textContent = labels[data.status] || data.status;
    statusNode.className = "status status-" + data.status;
    statusNode.dataset.status = data.status;
    root.dataset.status = data.status;
    var step = (data.progress && data.progress.step) || 0;
    var total = (data.progress && data.progress.total) || 0;
    progress.max = total || 1;
    progress.value = data.status === "released" ? progress.max : step;
    progressText.textContent = total ? step + " / " + total : "";
  }

  function showExplanation(data) {
    explanation.textContent = "";
    if (EXPLAIN[data.status]) {
      explanation.appendChild(element("p", {}, EXPLAIN[data.status]));
    }
    if (data.reason) {
      explanation.appendChild(element("p", { "data-testid": "reason" }, data.reason));
    }
    reasonsList.textContent = "";
    var decisions = data.decisions || {};
    [decisions.pre_generation, decisions.output].forEach(function (decision) {
      ((decision && decision.reasons) || []).forEach(function (reason) {
        if (reason.verdict === "allow") {
          return;
        }
        reasonsList.appendChild(element("li", { "data-code": reason.code }, reason.detail || reason.code));
      });
    });
  }

  function showOutput(data) {
    if (!data.output_url || output.querySelector("[data-testid=output-media]")) {
      return;
    }
    var media = data.kind === "video"
      ? element("video", { src: data.output_url, controls: "", "data-testid": "output-media" })
      : element("img", {
        src: data.output_url, alt: "The generated image", "class": "evidence-image", "data-testid": "output-media"
      });
    var link = element("a", { "class": "button", href: data.output_url, download: "", "data-testid": "download" }, "Download");
    var paragraph = element("p");
    paragraph.appendChild(link);
    output.appendChild(media);
    output.appendChild(paragraph);
  }

  function poll() {
    fetch(apiUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        showStatus(data);
        showExplanation(data);
        showOutput(data);
        if (finals.indexOf(data.status) === -1) {
          window.setTimeout(poll, INTERVAL);
        }
      })
      .catch(function () {
        window.setTimeout(poll, INTERVAL * 3);
      });
  }

  if (finals.indexOf(root.dataset.status) === -1) {
    window.setTimeout(poll, INTERVAL);
  }
})();
