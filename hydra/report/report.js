// Hydra report: click a column's heading to sort its table; details open when printing.
// The page reads the same without this script: tables in their first order, folds closed.
(() => {
  "use strict";
  const number = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i;
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  const key = (cell) => (cell.dataset.sort ?? cell.textContent).trim();

  function sortBy(table, index, heading) {
    const ascending = heading.getAttribute("aria-sort") !== "ascending";
    for (const other of heading.parentNode.cells) other.removeAttribute("aria-sort");
    heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    const keys = new Map(rows.map((row) => [row, key(row.cells[index])]));
    const numeric = rows.every((row) => keys.get(row) === "" || number.test(keys.get(row)));
    rows.sort((a, b) => {
      const x = keys.get(a), y = keys.get(b);
      if (x === "" || y === "") return (x === "") - (y === "");  // figures that are not there go last
      const order = numeric ? Number(x) - Number(y) : collator.compare(x, y);
      return ascending ? order : -order;
    });
    body.append(...rows);
  }

  for (const table of document.querySelectorAll("table.sortable")) {
    Array.from(table.tHead.rows[0].cells).forEach((heading, index) => {
      const button = document.createElement("button");
      button.type = "button";
      button.title = "Sort by " + heading.textContent;
      button.append(...heading.childNodes);
      heading.append(button);
      button.addEventListener("click", () => sortBy(table, index, heading));
    });
  }

  addEventListener("beforeprint", () => {
    for (const fold of document.querySelectorAll("details:not([open])")) {
      fold.dataset.printOpened = "";
      fold.open = true;
    }
  });
  addEventListener("afterprint", () => {
    for (const fold of document.querySelectorAll("details[data-print-opened]")) {
      fold.open = false;
      delete fold.dataset.printOpened;
    }
  });
})();
