import { describe, expect, it } from 'vitest';
import { tempDir, eventually } from '@shoal/testing';
import { startTestPlatform } from '@shoal/contract/testing';
import { call, consumedEvents, publisherFor, serviceStores, startTestService, watchTopics } from '@shoal/service/testing';
import { buildPayments, configSpec } from './app.js';
import { orderCancelled, stockReserved } from './testing/upstream-events.js';

/**
 * The payments service for real: its composition on a broker and a registry, HTTP through fastify, events
 * published to the topics it reads, and what it emits read back from payments.payment. The same tests on
 * either store: its SQLite file, and a PostgreSQL database through DATABASE_URL.
 */
describe.each(serviceStores)('payments service on $name', (store) => {
  it.skipIf(store.missing !== undefined)('sets and reads credit limits, and refuses bad requests as problem+json', async () => {
    const { host } = await startTestService(configSpec, buildPayments, { env: await store.env() });

    expect(await call(host, 'PUT', '/customers/c1/limit', { limit: 100000, currency: 'EUR' })).toMatchObject({
      status: 200,
      body: { customerId: 'c1', limit: 100000, currency: 'EUR', used: 0, available: 100000 },
    });
    // Nothing is in use yet, so the currency may still change.
    expect(await call(host, 'PUT', '/customers/c1/limit', { limit: 500, currency: 'USD' })).toMatchObject({ status: 200, body: { limit: 500, currency: 'USD' } });
    expect(await call(host, 'GET', '/customers/c1')).toEqual({
      status: 200,
      contentType: expect.stringContaining('application/json'),
      body: { customerId: 'c1', limit: 500, currency: 'USD', used: 0, available: 500 },
    });

    const refusals = [
      await call(host, 'PUT', '/customers/c1/limit', { limit: -1, currency: 'EUR' }),
      await call(host, 'PUT', '/customers/c1/limit', { limit: 10.5, currency: 'EUR' }),
      await call(host, 'PUT', '/customers/c1/limit', { limit: 10, currency: 'eur' }),
      await call(host, 'PUT', '/customers/c1/limit', { limit: 10 }),
    ];
    for (const refusal of refusals) {
      expect(refusal).toMatchObject({ status: 400, contentType: expect.stringContaining('application/problem+json'), body: { code: 'SHOAL_REQUEST_INVALID', status: 400 } });
    }
    expect(refusals[2]!.body.errors).toEqual([expect.objectContaining({ path: 'body/currency' })]);
    expect((await call(host, 'GET', '/customers/c1')).body).toMatchObject({ limit: 500, currency: 'USD' });
    // Customer ids are 1 to 100 characters, as orders accepts them; longer ones are refused before routing.
    expect(await call(host, 'PUT', `/customers/${'c'.repeat(100)}/limit`, { limit: 10, currency: 'EUR' })).toMatchObject({ status: 200 });
    expect(await call(host, 'PUT', `/customers/${'c'.repeat(101)}/limit`, { limit: 10, currency: 'EUR' })).toMatchObject({
      status: 414,
      contentType: expect.stringContaining('application/problem+json'),
      body: { code: 'SHOAL_REQUEST_INVALID' },
    });

    expect(await call(host, 'GET', '/customers/nobody')).toMatchObject({
      status: 404,
      contentType: expect.stringContaining('application/problem+json'),
      body: { code: 'SHOAL_NOT_FOUND', customerId: 'nobody' },
    });
    expect(await call(host, 'GET', '/payments/o-none')).toMatchObject({ status: 404, body: { code: 'SHOAL_NOT_FOUND', orderId: 'o-none' } });
  });

  it.skipIf(store.missing !== undefined)('authorizes against what the limit leaves, declines with a reason, and refuses a currency change while money is in use', async () => {
    const { host, platform } = await startTestService(configSpec, buildPayments, { env: await store.env() });
    const published = await watchTopics(platform, ['payments.payment']);
    const publisher = await publisherFor(platform);
    await call(host, 'PUT', '/customers/c1/limit', { limit: 1000, currency: 'EUR' });
    await call(host, 'PUT', '/customers/c-usd/limit', { limit: 1000, currency: 'USD' });

    const fits = stockReserved('c1', 600);
    await publisher.publish(fits);
    const [authorized] = await published.waitFor('shoal.payments.PaymentAuthorized', { subject: fits.data.orderId });
    expect(authorized!.data).toEqual({
      paymentId: expect.any(String),
      orderId: fits.data.orderId,
      customerId: 'c1',
      amount: { amount: 600, currency: 'EUR' },
      authorizedAt: expect.any(Number),
    });
    expect(authorized).toMatchObject({ source: '/shoal/payments', subject: fits.data.orderId, partitionkey: fits.data.orderId, causationid: fits.id, correlationid: fits.id });
    expect(await call(host, 'GET', `/payments/${fits.data.orderId}`)).toMatchObject({
      status: 200,
      body: { paymentId: authorized!.data.paymentId, orderId: fits.data.orderId, customerId: 'c1', status: 'AUTHORIZED', amount: { amount: 600, currency: 'EUR' } },
    });
    expect((await call(host, 'GET', `/payments/${fits.data.orderId}`)).body).not.toHaveProperty('reason');
    expect((await call(host, 'GET', '/customers/c1')).body).toMatchObject({ used: 600, available: 400 });

    const tooMuch = stockReserved('c1', 500);
    const noLimit = stockReserved('c-none', 1);
    const otherCurrency = stockReserved('c-usd', 1, { currency: 'EUR' });
    await publisher.publishBatch([tooMuch, noLimit, otherCurrency]);
    const declines = await published.waitFor('shoal.payments.PaymentDeclined', { count: 3 });
    const reasonOf = (orderId: string) => declines.find((event) => event.data.orderId === orderId)?.data.reason;
    expect(reasonOf(tooMuch.data.orderId)).toBe('credit limit exceeded: needs 500 EUR, 400 of 1000 EUR available');
    expect(reasonOf(noLimit.data.orderId)).toBe('no credit limit set for customer c-none');
    expect(reasonOf(otherCurrency.data.orderId)).toBe('currency mismatch: the limit is in USD');
    expect((await call(host, 'GET', `/payments/${tooMuch.data.orderId}`)).body).toMatchObject({
      status: 'DECLINED',
      amount: { amount: 500, currency: 'EUR' },
      reason: 'credit limit exceeded: needs 500 EUR, 400 of 1000 EUR available',
    });
    expect((await call(host, 'GET', '/customers/c1')).body).toMatchObject({ used: 600, available: 400 });
    expect(await call(host, 'GET', '/customers/c-none')).toMatchObject({ status: 404 });

    expect(await call(host, 'PUT', '/customers/c1/limit', { limit: 1000, currency: 'USD' })).toMatchObject({
      status: 409,
      contentType: expect.stringContaining('application/problem+json'),
      body: { code: 'SHOAL_COMMAND_REJECTED', customerId: 'c1', used: 600 },
    });
    // Raising or lowering the limit keeps what is in use; below it, nothing more is available.
    expect(await call(host, 'PUT', '/customers/c1/limit', { limit: 2000, currency: 'EUR' })).toMatchObject({ status: 200, body: { used: 600, available: 1400 } });
    expect(await call(host, 'PUT', '/customers/c1/limit', { limit: 100, currency: 'EUR' })).toMatchObject({ status: 200, body: { limit: 100, used: 600, available: 0 } });
  });

  it.skipIf(store.missing !== undefined)('refunds an authorized payment on OrderCancelled, charges nobody for an order cancelled first, and ignores redeliveries', async () => {
    const { host, platform } = await startTestService(configSpec, buildPayments, { env: await store.env() });
    const published = await watchTopics(platform, ['payments.payment']);
    const publisher = await publisherFor(platform);
    await call(host, 'PUT', '/customers/c1/limit', { limit: 1000, currency: 'EUR' });

    // Authorized, then cancelled by the customer: refunded.
    const paid = stockReserved('c1', 300);
    await publisher.publish(paid);
    const [authorized] = await published.waitFor('shoal.payments.PaymentAuthorized', { subject: paid.data.orderId });
    const cancel = orderCancelled(paid);
    await publisher.publish(cancel);
    const [refunded] = await published.waitFor('shoal.payments.PaymentRefunded', { subject: paid.data.orderId });
    expect(refunded!.data).toEqual({
      paymentId: authorized!.data.paymentId,
      orderId: paid.data.orderId,
      customerId: 'c1',
      amount: { amount: 300, currency: 'EUR' },
      refundedAt: expect.any(Number),
    });
    expect(refunded).toMatchObject({ causationid: cancel.id, correlationid: cancel.id });
    expect((await call(host, 'GET', `/payments/${paid.data.orderId}`)).body).toMatchObject({ status: 'REFUNDED' });

    // Cancelled before its stock was reserved (the topics are not ordered with each other): no payment at all.
    const early = stockReserved('c1', 200);
    await publisher.publish(orderCancelled(early));
    await eventually(async () => expect((await consumedEvents(host)).handled).toBe(3));
    await publisher.publish(early);

    // Declined, then cancelled by orders because of it: nothing to refund.
    const declined = stockReserved('c1', 5000);
    await publisher.publish(declined);
    await published.waitFor('shoal.payments.PaymentDeclined', { subject: declined.data.orderId });
    await publisher.publish(orderCancelled(declined, 'PAYMENT_DECLINED'));

    // Redeliveries (same ids), and inventory reserving an order a second time under a new id.
    await publisher.publishBatch([paid, cancel]);
    await publisher.publish(stockReserved('c1', 300, { orderId: paid.data.orderId }));

    await eventually(async () => expect(await consumedEvents(host)).toMatchObject({ handled: 7, duplicate: 2, dead_lettered: 0 }));
    expect(await call(host, 'GET', `/payments/${early.data.orderId}`)).toMatchObject({ status: 404 });
    expect((await call(host, 'GET', `/payments/${declined.data.orderId}`)).body).toMatchObject({ status: 'DECLINED' });
    expect((await call(host, 'GET', `/payments/${paid.data.orderId}`)).body).toMatchObject({ status: 'REFUNDED', paymentId: authorized!.data.paymentId });
    expect((await call(host, 'GET', '/customers/c1')).body).toMatchObject({ used: 0, available: 1000 });
    expect(published.ofType('shoal.payments.PaymentAuthorized')).toHaveLength(1);
    expect(published.ofType('shoal.payments.PaymentRefunded')).toHaveLength(1);
    expect(published.all()).toHaveLength(3);
  });

  it.skipIf(store.missing !== undefined)('keeps its customers and payments across a restart on the same database, and resumes where it stopped', async () => {
    const platform = await startTestPlatform();
    const dataDir = tempDir('payments-restart');
    const env = await store.env();
    const published = await watchTopics(platform, ['payments.payment']);
    const publisher = await publisherFor(platform);

    const first = await startTestService(configSpec, buildPayments, { platform, dataDir, env });
    await call(first.host, 'PUT', '/customers/c1/limit', { limit: 1000, currency: 'EUR' });
    const paid = stockReserved('c1', 400);
    await publisher.publish(paid);
    await published.waitFor('shoal.payments.PaymentAuthorized', { subject: paid.data.orderId });
    await first.host.stop();

    // Sent while the service is down: handled by the next start, from the group's committed offsets.
    const next = stockReserved('c1', 500);
    await publisher.publishBatch([orderCancelled(paid), next]);

    const second = await startTestService(configSpec, buildPayments, { platform, dataDir, env });
    // The refund finds the payment authorized before the restart. The two topics are not ordered with each
    // other, so 500 is chosen to fit whether the refund comes first or not.
    await published.waitFor('shoal.payments.PaymentRefunded', { subject: paid.data.orderId });
    await published.waitFor('shoal.payments.PaymentAuthorized', { subject: next.data.orderId });
    expect((await call(second.host, 'GET', '/customers/c1')).body).toMatchObject({ limit: 1000, used: 500, available: 500 });
    expect(await consumedEvents(second.host)).toMatchObject({ handled: 2, duplicate: 0 });
    expect(published.ofType('shoal.payments.PaymentAuthorized')).toHaveLength(2);
  });
});
