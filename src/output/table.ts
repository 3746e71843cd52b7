// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;]*m/g

const width = (text: string) => text.replace(ANSI, '').length

/** A plain left-aligned table: header, rule, rows; cells may carry ANSI styling. */
export function renderTable(
  headers: string[],
  rows: string[][],
  styleHeader: (text: string) => string,
): string {
  // A loop, not Math.max(...rows): spreading 100,000+ rows as arguments overflows the stack.
  const widths = headers.map((header, column) =>
    rows.reduce((widest, row) => Math.max(widest, width(row[column] ?? '')), width(header)),
  )
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell + ' '.repeat(widths[column] - width(cell)),
      )
      .join('  ')
      .trimEnd()
  return [line(headers.map(styleHeader)), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join(
    '\n',
  )
}
