/**
 * The order-fulfilment choreography end to end on what `npm start` runs: `shoal dev` with the embedded
 * broker. The scenarios are support/choreography-suite.ts, which choreography-apache-kafka.test.ts runs on
 * Apache Kafka.
 */
import { choreographySuite } from './support/choreography-suite.js';

choreographySuite({ name: 'the embedded broker', devArgs: () => [] });
