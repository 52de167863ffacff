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
// A file chosen for a text field (catalogue import): read it into the field.
document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("[data-file-for]")) {
    const target = document.getElementById(box.dataset.fileFor);
    const input = box.querySelector("input[type=file]");
    if (!target || !input || !window.FileReader) continue;
    box.hidden = false;
    input.addEventListener("change", () => {
      const file = input.files[0];
      if (!file) return;
      const reader = new FileReader();
      reader.onload = () => { target.value = reader.result; };
      reader.readAsText(file, "utf-8");
    });
  }
});
