/*
 * Photo pages, optional: shrink phone photos in the browser before they are sent.
 *
 * A 12 MP phone photo is 3-5 MB; on a 400 kbps connection that is one to two minutes of
 * upload per photo. The server keeps at most 2048 px anyway (it decodes and re-encodes
 * every photo, without metadata), so a photo is redrawn here at that size as a JPEG of a
 * few hundred KB before the form is sent. The drawn copy carries no EXIF (no GPS).
 *
 * Nothing depends on this script: without it (JavaScript off, an old browser, any error
 * here) the original file is sent and the server does the same work.
 */
(function () {
  "use strict";

  var MAX_SIDE = 2048;
  var QUALITY = 0.85;
  var SHRINK_ABOVE = 1024 * 1024; // smaller files are sent as they are

  if (!window.DataTransfer || !window.createImageBitmap || !HTMLCanvasElement.prototype.toBlob) {
    return;
  }

  function worthShrinking(file) {
    return /^image\/(jpeg|png|webp)$/.test(file.type) && file.size > SHRINK_ABOVE;
  }

  function shrink(file) {
    if (!worthShrinking(file)) {
      return Promise.resolve(file);
    }
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      var context = canvas.getContext("2d");
      context.fillStyle = "#fff"; // transparent PNG areas become white, as on the server
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      if (bitmap.close) {
        bitmap.close();
      }
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) {
            resolve(file); // nothing gained: send the original
            return;
          }
          var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg", lastModified: file.lastModified }));
        }, "image/jpeg", QUALITY);
      });
    });
  }

  function prepare(form, submitter) {
    var inputs = form.querySelectorAll("input[type=file][data-shrink]");
    var jobs = [];
    Array.prototype.forEach.call(inputs, function (input) {
      var files = Array.prototype.slice.call(input.files || []);
      if (!files.length) {
        return;
      }
      jobs.push(
        Promise.all(files.map(shrink)).then(function (shrunk) {
          var transfer = new DataTransfer();
          shrunk.forEach(function (f) { transfer.items.add(f); });
          input.files = transfer.files;
        })
      );
    });
    return Promise.all(jobs);
  }

  // Is there a chosen photo this script would redraw? Nothing chosen (Continue, Save draft,
  // or Add photo pressed without a file), or only small files: the form goes as it is.
  function hasWork(form) {
    var inputs = form.querySelectorAll("input[type=file][data-shrink]");
    return Array.prototype.some.call(inputs, function (input) {
      return Array.prototype.some.call(input.files || [], worthShrinking);
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.shrunk === "yes" || !hasWork(form)) {
      return;
    }
    event.preventDefault();
    var submitter = event.submitter || null;
    var send = function () {
      form.dataset.shrunk = "yes";
      // In a later task, never during this submit event: a browser ignores requestSubmit()
      // while the form is still firing its submit event (the HTML standard's "firing
      // submission events" flag), which a promise settled at once would run inside.
      window.setTimeout(function () {
        if (form.requestSubmit) {
          form.requestSubmit(submitter); // keeps the name/value of the button pressed
        } else {
          form.submit();
        }
      }, 0);
    };
    var note = form.querySelector("[data-shrink-status]");
    if (note) {
      note.hidden = false;
    }
    prepare(form, submitter).then(send, send); // any failure: send what was chosen
  });

  // Back to a page kept in the browser's cache: its forms may be sent (and shrunk) again.
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(document.forms, function (form) {
      delete form.dataset.shrunk;
    });
  });
})();
