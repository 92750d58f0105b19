/** A small DOM builder: `el('td', { class: 'number' }, '42')`. Text is always set as text, never as HTML. */
export type Child = Node | string | number | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined) element.setAttribute(name, value);
  append(element, children);
  return element;
}

const SVG = 'http://www.w3.org/2000/svg';

export function svg(tag: string, attributes: Record<string, string | number | undefined> = {}, ...children: Child[]): SVGElement {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined) element.setAttribute(name, String(value));
  append(element, children);
  return element;
}

function append(parent: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function table(header: string[], rows: Child[][], numeric: number[] = []): HTMLTableElement {
  return el(
    'table',
    {},
    el('thead', {}, el('tr', {}, ...header.map((name) => el('th', {}, name)))),
    el('tbody', {}, ...rows.map((row) => el('tr', {}, ...row.map((cell, i) => el('td', numeric.includes(i) ? { class: 'number' } : {}, cell))))),
  );
}

export function ms(value: number | undefined | null): string {
  return value === undefined || value === null ? '–' : `${Math.round(value)} ms`;
}

export function shortType(type: string): string {
  return type.slice(type.lastIndexOf('.') + 1);
}
