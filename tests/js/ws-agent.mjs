// mqtt.js over WebSocket for AccessLayer.Gateway.Tests (Governance/WebSocketTransportTests).
//
// Usage: node ws-agent.mjs URL CLIENT_ID PROTOCOL_VERSION TOPIC COUNT [CA_FILE]
//
// Connects to URL (ws:// or wss://, validated against CA_FILE when given), subscribes to
// TOPIC at QoS 1, publishes COUNT QoS 1 messages to it and waits for all of them to come
// back. Prints one JSON line and exits 0 on success:
//   {"ok":true,"received":COUNT,"sessionPresent":false}
// or {"ok":false,"error":"..."} with exit code 1. Exits on its own after 15 s.
import mqtt from 'mqtt'
import { readFileSync } from 'node:fs'

const [url, clientId, version, topic, countText, caFile] = process.argv.slice(2)
const count = Number(countText)
const done = (ok, fields) => {
  process.stdout.write(JSON.stringify({ ok, ...fields }) + '\n')
  process.exit(ok ? 0 : 1)
}
setTimeout(() => done(false, { error: 'timeout' }), 15000).unref()

const options = {
  clientId,
  protocolVersion: Number(version),
  clean: true,
  reconnectPeriod: 0,
  connectTimeout: 10000,
}
if (caFile) {
  options.ca = readFileSync(caFile)
  options.rejectUnauthorized = true
}

const client = mqtt.connect(url, options)
let received = 0
client.on('error', (err) => done(false, { error: String(err?.message ?? err) }))
client.on('message', (t, payload) => {
  if (t !== topic) return
  received++
  if (received === count) client.end(false, {}, () => done(true, { received, sessionPresent }))
})
let sessionPresent = false
client.on('connect', async (connack) => {
  sessionPresent = connack.sessionPresent
  try {
    await client.subscribeAsync(topic, { qos: 1 })
    for (let i = 0; i < count; i++) await client.publishAsync(topic, `m${i}`, { qos: 1 })
  } catch (err) {
    done(false, { error: String(err?.message ?? err) })
  }
})
