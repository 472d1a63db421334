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
    var id = select.id;
    ac.enhanceSelectElement({
      selectElement: select,
      defaultValue: "",
      // No ghost-text hint: it is an unlabelled input (axe-core "label"), and the list says the same.
      autoselect: false,
      minLength: 1,
      showNoOptionsFound: true,
      tNoResults: function () { return "No one by that name"; },
      onConfirm: function (label) {
        // The select follows what the box shows: a name picked or typed in full, else no one.
        var box = document.getElementById(id);
        var text = label === undefined ? (box ? box.value : "") : label;
        var chosen = Array.prototype.find.call(select.options, function (o) {
          return o.value && o.textContent === text;
        });
        select.value = chosen ? chosen.value : "";
      }
    });
    var input = document.getElementById(id);
    if (input && hint) {
      input.setAttribute("aria-describedby", (hint + " " + (input.getAttribute("aria-describedby") || "")).trim());
    }
  });
})();
