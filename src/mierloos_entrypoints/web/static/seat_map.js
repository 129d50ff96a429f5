/* Choosing seats on the hall's map (web/seat_map.py draws it on the server).
   The form's checkboxes (one per free seat, listed per row) stay the one truth: a click or a key
   on a seat of the map ticks its checkbox, and the map and the summary follow the checkboxes.
   So the form works the same with and without this script, and it is what is posted.
   Keys on the map: arrows move along a row and to the nearest seat of the row in front or
   behind, Home/End to a row's ends, space or Enter chooses or un-chooses a free seat.
   No third-party code. */
(function () {
  "use strict";
  var form = document.getElementById("seat-form");
  var svg = document.querySelector("svg.seat-map");
  if (!form || !svg) { return; }
  var summary = document.getElementById("seat-summary");
  var list = form.querySelector("details.seat-list");
  var maximum = parseInt(form.getAttribute("data-max"), 10) || 10;
  var money = new Intl.NumberFormat(form.getAttribute("data-language") === "en" ? "en-GB" : "nl-NL",
    { style: "currency", currency: "EUR" });
  var boxes = {};
  Array.prototype.forEach.call(form.querySelectorAll('input[name="seat"]'), function (box) {
    boxes[box.value] = box;
  });
  var seats = Array.prototype.slice.call(svg.querySelectorAll("g.seat"));
  if (!seats.length) { return; }

  // Rows front to back, each's seats left to right, as the map draws them.
  var rows = [];
  var byRow = {};
  seats.forEach(function (seat) {
    var key = seat.getAttribute("data-row");
    if (!byRow[key]) { byRow[key] = []; rows.push(byRow[key]); }
    byRow[key].push(seat);
  });
  function y(seat) { return parseFloat(seat.getAttribute("data-y")); }
  function x(seat) { return parseFloat(seat.getAttribute("data-x")); }
  rows.forEach(function (row) { row.sort(function (a, b) { return x(a) - x(b); }); });
  function meanY(row) { return row.reduce(function (s, seat) { return s + y(seat); }, 0) / row.length; }
  rows.sort(function (a, b) { return meanY(a) - meanY(b); });

  svg.setAttribute("role", "group");
  svg.setAttribute("aria-describedby", "stoelen-uitleg");
  function labelOf(seat) {
    var title = seat.querySelector("title");
    return title ? title.textContent : "";
  }
  seats.forEach(function (seat) {
    // the label the server wrote as a tooltip names the checkbox; without its state (the last
    // part, "vrij") it names the seat in the summary
    var label = labelOf(seat);
    seat.setAttribute("aria-label", label);
    seat.setAttribute("data-label", label.slice(0, Math.max(label.lastIndexOf(", "), 0)) || label);
    seat.setAttribute("role", "checkbox");
    seat.setAttribute("tabindex", "-1");
    if (!boxes[seat.getAttribute("data-seat")]) { seat.setAttribute("aria-disabled", "true"); }
  });
  var ordered = [].concat.apply([], rows);
  var start = ordered.filter(function (seat) { return boxes[seat.getAttribute("data-seat")]; })[0] || ordered[0];
  start.setAttribute("tabindex", "0");
  if (list) { list.open = false; }

  function place(seat) {
    for (var r = 0; r < rows.length; r++) {
      var i = rows[r].indexOf(seat);
      if (i >= 0) { return [r, i]; }
    }
    return [0, 0];
  }

  function focusSeat(seat) {
    seats.forEach(function (other) { other.setAttribute("tabindex", other === seat ? "0" : "-1"); });
    seat.focus();
  }

  function chosenBoxes() {
    return Object.keys(boxes).filter(function (id) { return boxes[id].checked; });
  }

  function refresh(message) {
    var chosen = chosenBoxes();
    var total = 0;
    var names = [];
    seats.forEach(function (seat) {
      var id = seat.getAttribute("data-seat");
      var on = !!(boxes[id] && boxes[id].checked);
      seat.setAttribute("aria-checked", on ? "true" : "false");
      seat.classList.toggle("is-chosen", on);
      if (on) {
        total += parseInt(seat.getAttribute("data-price"), 10) || 0;
        names.push(seat.getAttribute("data-label"));
      }
    });
    var text = chosen.length
      ? form.getAttribute("data-chosen") + " " + names.join("; ") + ". " +
        form.getAttribute("data-total") + ": " + money.format(total / 100)
      : form.getAttribute("data-none");
    summary.textContent = message ? message + " " + text : text;
  }

  function toggle(seat) {
    var box = boxes[seat.getAttribute("data-seat")];
    if (!box) { return; }
    if (!box.checked && chosenBoxes().length >= maximum) {
      refresh(form.getAttribute("data-too-many"));
      return;
    }
    box.checked = !box.checked;
    refresh();
  }

  svg.addEventListener("click", function (event) {
    var seat = event.target.closest ? event.target.closest("g.seat") : null;
    if (!seat) { return; }
    focusSeat(seat);
    toggle(seat);
  });

  svg.addEventListener("keydown", function (event) {
    var seat = event.target.closest ? event.target.closest("g.seat") : null;
    if (!seat) { return; }
    var at = place(seat);
    var row = rows[at[0]];
    var next = null;
    switch (event.key) {
      case "ArrowLeft": next = row[Math.max(0, at[1] - 1)]; break;
      case "ArrowRight": next = row[Math.min(row.length - 1, at[1] + 1)]; break;
      case "Home": next = row[0]; break;
      case "End": next = row[row.length - 1]; break;
      case "ArrowUp": case "ArrowDown":
        var other = rows[at[0] + (event.key === "ArrowUp" ? -1 : 1)];
        if (other) {
          next = other.reduce(function (best, candidate) {
            return Math.abs(x(candidate) - x(seat)) < Math.abs(x(best) - x(seat)) ? candidate : best;
          });
        } else { next = seat; }
        break;
      case " ": case "Enter":
        event.preventDefault();
        toggle(seat);
        return;
      default: return;
    }
    event.preventDefault();
    focusSeat(next);
  });

  form.addEventListener("change", function () { refresh(); });
  refresh();
})();
