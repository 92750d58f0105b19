import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaFor, startTestBroker } from '../testing/index.js';
import { connected } from '@shoal/testing';
import { uniqueName } from '@shoal/testing';

const { ConfigResourceTypes } = kafkajs;

describe('AlterConfigs (kafkajs alterConfigs)', () => {
  it('replaces a topic\'s dynamic configs, which DescribeConfigs then reports and the log enforces', async () => {
    const broker = await startTestBroker();
    const kafka = kafkaFor(broker.bootstrap);
    const admin = await connected(kafka.admin());
    const topic = uniqueName('alter');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }] }] });

    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'max.message.bytes', value: '200' }] }] });
    const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms: false });
    const entries = Object.fromEntries(described.resources[0]!.configEntries.map((c) => [c.configName, { value: c.configValue, isDefault: c.isDefault }]));
    expect(entries['max.message.bytes']).toEqual({ value: '200', isDefault: false });
    // AlterConfigs is not incremental: what the request leaves out reverts to the default.
    expect(entries['retention.ms']).toMatchObject({ isDefault: true });

    const producer = await connected(kafka.producer({ retry: { retries: 0 } }));
    await expect(producer.send({ topic, messages: [{ value: Buffer.alloc(500) }] })).rejects.toMatchObject({ type: 'MESSAGE_TOO_LARGE' });
    await producer.send({ topic, messages: [{ value: 'small' }] });
  });

  it('answers Kafka error codes for unknown topics, invalid values and static broker configs, and validate_only changes nothing', async () => {
    const broker = await startTestBroker();
    const admin = await connected(kafkaFor(broker.bootstrap, { retry: { retries: 0 } }).admin());
    const topic = uniqueName('alter-errors');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const alter = (type: number, name: string, configName: string, configValue: string, validateOnly = false) =>
      admin.alterConfigs({ validateOnly, resources: [{ type, name, configEntries: [{ name: configName, value: configValue }] }] });

    await expect(alter(ConfigResourceTypes.TOPIC, uniqueName('missing'), 'retention.ms', '1000')).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await expect(alter(ConfigResourceTypes.TOPIC, topic, 'retention.ms', 'soon')).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
    await expect(alter(ConfigResourceTypes.BROKER, '0', 'log.retention.ms', '1000')).rejects.toMatchObject({ type: 'INVALID_REQUEST' });

    await alter(ConfigResourceTypes.TOPIC, topic, 'retention.ms', '1234', true);
    const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms'] }], includeSynonyms: false });
    expect(described.resources[0]!.configEntries[0]).toMatchObject({ configName: 'retention.ms', isDefault: true });
  });
});
