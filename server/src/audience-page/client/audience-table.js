/* global document */
/**
 * The table beside every chart: the same numbers, as a real `<table>` with a caption and
 * `th scope` on both axes, so a screen reader (or anyone) reads what the chart draws.
 *
 * @param {{ caption: string, rowHeader: string, columns: string[], rows: Array<{ header: string, cells: string[] }> }} table
 * @returns {HTMLTableElement}
 */
export function renderTable(table) {
  const element = document.createElement('table');
  const caption = element.createCaption();
  caption.textContent = table.caption;
  const headRow = element.createTHead().insertRow();
  for (const text of [table.rowHeader, ...table.columns]) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = text;
    headRow.append(th);
  }
  const body = element.createTBody();
  for (const row of table.rows) {
    const tr = body.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = row.header;
    tr.append(th);
    for (const cell of row.cells) {
      const td = tr.insertCell();
      td.textContent = cell;
    }
  }
  if (table.rows.length === 0) {
    const td = body.insertRow().insertCell();
    td.colSpan = table.columns.length + 1;
    td.textContent = 'No data yet.';
  }
  return element;
}
