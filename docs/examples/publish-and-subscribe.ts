/**
 * Publishing and receiving typed events with @shoal/contract and @shoal/transport, without the runtime
 * libraries: what docs/events-and-schemas.md shows under "From code". The doc-sample test runs it against a
 * real broker and registry.
 */
// #region publish-and-subscribe
import { EventCodec, RegistryClient, createEvent, loadSchemaCatalog, type OrderPlaced, type ShoalEvent } from '@shoal/contract';
import { Publisher, Subscriber, kafkaClient } from '@shoal/transport';

export async function placeAndHear(brokers: string[], registryUrl: string, order: OrderPlaced): Promise<ShoalEvent<'shoal.orders.OrderPlaced'>> {
  const kafka = kafkaClient({ clientId: 'docs-example', brokers });
  const codec = new EventCodec({ registry: new RegistryClient({ url: registryUrl }), catalog: loadSchemaCatalog() });

  let heard: (event: ShoalEvent<'shoal.orders.OrderPlaced'>) => void = () => undefined;
  const arrived = new Promise<ShoalEvent<'shoal.orders.OrderPlaced'>>((resolve) => (heard = resolve));
  const subscriber = new Subscriber({ kafka, codec, groupId: `docs-example-${order.orderId}`, topics: ['orders.order'], fromBeginning: true });
  subscriber.on('shoal.orders.OrderPlaced', (event) => {
    if (event.data.orderId === order.orderId) heard(event); // event.data is typed from the schema
  });
  await subscriber.run(); // resolves once the member has joined its group

  const publisher = new Publisher({ kafka, codec }); // idempotent producer, acks -1
  await publisher.connect();
  const placed = createEvent('shoal.orders.OrderPlaced', order, { source: '/shoal/orders', subject: order.orderId });
  await publisher.publish(placed); // data of another shape would not compile

  try {
    return await arrived;
  } finally {
    await subscriber.stop();
    await publisher.disconnect();
  }
}
// #endregion publish-and-subscribe
