/* The person picker: each <select data-person-picker> becomes a type-ahead box (the vendored
   accessible-autocomplete). Without JavaScript, or if the component did not load, the <select>
   stays as it is and works the same. The select keeps the field's name, so the form posts as before. */
(function () {
  "use strict";
  var ac = window.accessibleAutocomplete;
  if (!ac || !ac.enhanceSelectElement || !document.querySelectorAll) {
    return;
  }
  var selects = document.querySelectorAll("select[data-person-picker]");
  Array.prototype.forEach.call(selects, function (select) {
    var hint = select.getAttribute("aria-describedby");
    ac.enhanceSelectElement({
      selectElement: select,
      defaultValue: "",
      minLength: 1,
      showNoOptionsFound: true,
      tNoResults: function () { return "No one by that name"; },
      onConfirm: function (label) {
        // An empty box means no one: the select follows what the box shows.
        var chosen = Array.prototype.find.call(select.options, function (o) { return o.textContent === label; });
        select.value = chosen ? chosen.value : "";
      }
    });
    var input = document.getElementById(select.id.replace(/-select$/, ""));
    if (input && hint) {
      input.setAttribute("aria-describedby", (hint + " " + (input.getAttribute("aria-describedby") || "")).trim());
    }
  });
})();
