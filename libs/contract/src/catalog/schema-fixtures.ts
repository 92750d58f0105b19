/**
 * A small valid schemas folder for tests of the catalog and the codegen (not exported from the package): two
 * common types, one referencing the other, and two events on one topic.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const timestamp = { type: 'long', logicalType: 'timestamp-millis' };

export function fixtureSchemaFiles(): Map<string, string> {
  const files: Record<string, unknown> = {
    'manifest.json': {
      compatibility: 'BACKWARD_TRANSITIVE',
      topics: {
        'shop.cart': { owner: 'shop', partitions: 2, key: 'cartId', events: ['shoal.shop.CartOpened', 'shoal.shop.CartPaid'] },
      },
    },
    'common/Price.avsc': {
      type: 'record',
      name: 'Price',
      namespace: 'shoal.common',
      doc: 'An amount of money.',
      fields: [
        { name: 'amount', type: 'long', doc: 'Minor units.' },
        { name: 'currency', type: 'string', doc: 'ISO 4217 code.' },
      ],
    },
    'common/Item.avsc': {
      type: 'record',
      name: 'Item',
      namespace: 'shoal.common',
      doc: 'A product at a price.',
      fields: [
        { name: 'sku', type: 'string', doc: 'Product.' },
        { name: 'price', type: 'shoal.common.Price', doc: 'Unit price.' },
      ],
    },
    'shop/CartOpened.avsc': {
      type: 'record',
      name: 'CartOpened',
      namespace: 'shoal.shop',
      doc: 'A cart was opened.',
      fields: [
        { name: 'cartId', type: 'string', doc: 'The cart.' },
        { name: 'items', type: { type: 'array', items: 'shoal.common.Item' }, doc: 'Initial items.' },
        { name: 'openedAt', type: timestamp, doc: 'When.' },
      ],
    },
    'shop/CartPaid.avsc': {
      type: 'record',
      name: 'CartPaid',
      namespace: 'shoal.shop',
      doc: 'A cart was paid.',
      fields: [
        { name: 'cartId', type: 'string', doc: 'The cart.' },
        { name: 'amount', type: 'shoal.common.Price', doc: 'Amount paid.' },
        {
          name: 'method',
          type: { type: 'enum', name: 'PaymentMethod', symbols: ['CARD', 'CASH'], default: 'CARD', doc: 'How.' },
          default: 'CARD',
          doc: 'Payment method.',
        },
      ],
    },
  };
  return new Map(Object.entries(files).map(([path, json]) => [path, `${JSON.stringify(json, null, 2)}\n`]));
}

/** Writes `files` (relative path -> text) under `dir`. */
export function writeSchemaFolder(dir: string, files: ReadonlyMap<string, string>): void {
  for (const [path, text] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}
