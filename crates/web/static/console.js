// The provider console's entry form: enhancements only; the form works without this file.
"use strict";
// Repeating rows (data items, conditions, materials, relations): added and removed on the page
// without saving. Rows are numbered in their names (data_items[3].name); a removed row is
// simply not sent, and the server ignores empty rows, so gaps in the numbers do not matter.
document.addEventListener("DOMContentLoaded", () => {
  for (const set of document.querySelectorAll("fieldset[data-repeat]")) {
    const rows = () => [...set.querySelectorAll(":scope > .row")];
    if (rows().length === 0) continue;
    const indexOf = (row) => {
      const named = row.querySelector("[name]");
      const m = named && named.name.match(/\[(\d+)\]/);
      return m ? Number(m[1]) : 0;
    };
    const renumber = () => {
      if (!set.dataset.legend) return;
      rows().forEach((row, i) => {
        const legend = row.querySelector(":scope > legend");
        if (legend) legend.textContent = set.dataset.legend.replace("{n}", i + 1);
      });
    };
    const clear = (row) => {
      for (const el of row.querySelectorAll("input, select, textarea")) {
        if (el.tagName === "SELECT") el.selectedIndex = 0; else el.value = "";
        el.removeAttribute("aria-invalid");
        el.removeAttribute("aria-describedby");
      }
      for (const e of row.querySelectorAll(".field-error")) e.remove();
    };
    const add = document.createElement("button");
    add.type = "button";
    add.className = "add-row";
    add.textContent = set.dataset.add;
    const withRemove = (row) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "remove-row";
      b.textContent = set.dataset.remove;
      b.addEventListener("click", () => {
        if (rows().length > 1) {
          row.remove();
          renumber();
          add.focus();
        } else {
          clear(row);
        }
      });
      row.append(b);
    };
    add.addEventListener("click", () => {
      const last = rows().at(-1);
      const next = 1 + Math.max(...rows().map(indexOf));
      const row = last.cloneNode(true);
      row.querySelector(":scope > .remove-row")?.remove();
      for (const el of row.querySelectorAll("[name], [id], [for]")) {
        for (const attr of ["name", "id", "for"]) {
          const v = el.getAttribute(attr);
          if (v) el.setAttribute(attr, v.replace(/\[\d+\]/, `[${next}]`).replace(/-\d+-/, `-${next}-`));
        }
      }
      clear(row);
      withRemove(row);
      last.after(row);
      renumber();
      row.querySelector("input, select, textarea")?.focus();
    });
    rows().forEach(withRemove);
    set.append(add);
  }
});
// Related entries: found by name as one types; the field keeps the entry's identifier, which is
// what the form sends (and what one types without this file).
document.addEventListener("DOMContentLoaded", () => {
  const fields = 'input[name^="relations["][name$="].dataset"]';
  if (!document.querySelector(fields)) return;
  const choices = document.createElement("datalist");
  choices.id = "dataset-choices";
  document.body.append(choices);
  let timer = 0;
  let asked = "";
  document.addEventListener("input", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.matches(fields)) return;
    input.setAttribute("list", choices.id);
    input.autocomplete = "off";
    const text = input.value.trim();
    clearTimeout(timer);
    if (text.length < 1 || text === asked) return;
    timer = setTimeout(async () => {
      asked = text;
      const url = `/api/v1/datasets?q=${encodeURIComponent(text)}&per_page=8`;
      try {
        const answer = await (await fetch(url, { headers: { accept: "application/json" } })).json();
        choices.replaceChildren(...(answer.results || []).map((d) => {
          const option = document.createElement("option");
          option.value = d.id;
          option.label = d.metadata.name;
          option.textContent = d.metadata.name;
          return option;
        }));
      } catch (_) {
        // Typing the identifier still works.
      }
    }, 200);
  });
});
