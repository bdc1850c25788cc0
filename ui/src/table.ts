// A table that sorts (click or Enter on a header) and pages (thousands of rows: only one page is
// in the DOM).
import { Cell, paginate, sortRows } from './logic';
import { clear, h } from './dom';

export interface Column<T> {
  label: string;
  value: (r: T) => Cell; // sort key and default text
  render?: (r: T) => Node | string;
  numeric?: boolean;
}

export interface TableOptions<T> {
  pageSize?: number;
  caption?: string;
  rowClass?: (r: T) => string;
  emptyText?: string;
  testId?: string;
}

export function table<T>(rows: T[], columns: Column<T>[], opts: TableOptions<T> = {}): HTMLElement {
  const size = opts.pageSize ?? 50;
  let sortCol = -1;
  let desc = false;
  let page = 0;
  const wrap = h('div', { class: 'table-wrap', 'data-testid': opts.testId });
  const render = () => {
    clear(wrap);
    if (rows.length === 0) {
      wrap.append(h('p', { class: 'empty' }, opts.emptyText ?? 'Nothing to show.'));
      return;
    }
    const sorted = sortCol < 0 ? rows : sortRows(rows, columns[sortCol].value, desc);
    const p = paginate(sorted, page, size);
    page = p.page;
    const head = h(
      'tr',
      {},
      ...columns.map((c, i) => {
        const sort = i === sortCol ? (desc ? 'descending' : 'ascending') : 'none';
        return h(
          'th',
          { scope: 'col', 'aria-sort': sort, class: c.numeric ? 'num' : '' },
          h(
            'button',
            {
              type: 'button',
              class: 'sort',
              onclick: () => {
                if (sortCol === i) desc = !desc;
                else {
                  sortCol = i;
                  desc = false;
                }
                render();
              },
            },
            c.label + (i === sortCol ? (desc ? ' ▼' : ' ▲') : ''),
          ),
        );
      }),
    );
    const body = h(
      'tbody',
      {},
      ...p.rows.map((r) =>
        h(
          'tr',
          { class: opts.rowClass ? opts.rowClass(r) : '' },
          ...columns.map((c) => {
            const v = c.render ? c.render(r) : c.value(r);
            return h('td', { class: c.numeric ? 'num' : '' }, v === null || v === undefined ? '' : typeof v === 'number' ? String(v) : v);
          }),
        ),
      ),
    );
    wrap.append(h('table', {}, opts.caption ? h('caption', {}, opts.caption) : null, h('thead', {}, head), body));
    if (p.pages > 1) {
      const nav = h(
        'div',
        { class: 'pager' },
        h('button', { type: 'button', disabled: page === 0, onclick: () => ((page = 0), render()) }, '« First'),
        h('button', { type: 'button', disabled: page === 0, onclick: () => (page--, render()) }, '‹ Previous'),
        h('span', {}, `Page ${page + 1} of ${p.pages} (${p.total} rows)`),
        h('button', { type: 'button', disabled: page >= p.pages - 1, onclick: () => (page++, render()) }, 'Next ›'),
        h('button', { type: 'button', disabled: page >= p.pages - 1, onclick: () => ((page = p.pages - 1), render()) }, 'Last »'),
      );
      wrap.append(nav);
    }
  };
  render();
  return wrap;
}
