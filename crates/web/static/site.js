// Small enhancements; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons: copy the text of the element named by data-copy, then say so.
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      await navigator.clipboard.writeText(source.value || source.textContent);
      button.textContent = button.dataset.done;
    });
  }
  // Sort choice: search again at once.
  const sort = document.querySelector(".searchbar select[name=sort]");
  if (sort) sort.addEventListener("change", () => sort.form.submit());
});
