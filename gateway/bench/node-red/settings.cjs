// Node-RED settings of the gateway's Node-RED comparison (bench/node-red.ts): the flows only, no
// editor or HTTP server, no telemetry, warnings and errors on the console.
module.exports = {
  flowFile: 'flows.json',
  credentialSecret: false,
  httpAdminRoot: false,
  httpNodeRoot: false,
  uiHost: '127.0.0.1',
  logging: { console: { level: 'warn', metrics: false, audit: false } },
  diagnostics: { enabled: false, ui: false },
  telemetry: { enabled: false },
  runtimeState: { enabled: false, ui: false },
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
};
