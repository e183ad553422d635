import { startMosquitto } from '@gaswatch/shared/testing';
import { ingestContract } from './ingest-contract.js';

ingestContract('external Mosquitto', async () => {
  const mosquitto = await startMosquitto();
  return {
    env: { MQTT_URL: mosquitto.url, MQTT_CLIENT_ID: 'gaswatch-server-test' },
    brokerUrl: mosquitto.url,
    teardown: () => mosquitto.stop(),
  };
});
