// mqtt.js 5.x clients driven by JSON lines, for AccessLayer.Gateway.Tests.
//
// Usage: node agent.mjs
//
// One process hosts many named clients (starting node per client would cost more than the
// tests themselves). Commands arrive on stdin, one JSON object a line, each with an integer
// "id", a "client" name and an "op"; every command is answered with
// {"ev":"result","id":..,"ok":true|false,...}. Unsolicited events name their client:
// {"ev":"message",...}, {"ev":"arrived","mid":N} (a QoS 1/2 PUBLISH is about to be acknowledged),
// {"ev":"serverDisconnect","reasonCode":N}, {"ev":"closed"}.
// The protocol is the same as tests/python/agent.py; ScriptedClient.cs is the C# side.
// "kill" destroys a client's socket without DISCONNECT (an abrupt client death).
// End of stdin ends the process at once.
import mqtt from 'mqtt'
import readline from 'node:readline'

const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const result = (id, ok = true, fields = {}) => emit({ ev: 'result', id, ok, ...fields })
const errorText = (err) => String(err?.message ?? err)

const propNames = {
  messageExpiryInterval: 'messageExpiry',
  topicAlias: 'topicAlias',
  responseTopic: 'responseTopic',
  contentType: 'contentType',
  sessionExpiryInterval: 'sessionExpiry',
  receiveMaximum: 'receiveMaximum',
  maximumPacketSize: 'maximumPacketSize',
  topicAliasMaximum: 'topicAliasMaximum',
  assignedClientIdentifier: 'assignedClientIdentifier',
  maximumQoS: 'maximumQos',
  retainAvailable: 'retainAvailable',
  sharedSubscriptionAvailable: 'sharedSubscriptionAvailable',
  wildcardSubscriptionAvailable: 'wildcardSubscriptionAvailable',
  subscriptionIdentifiersAvailable: 'subscriptionIdentifierAvailable',
  serverKeepAlive: 'serverKeepAlive',
  reasonString: 'reasonString',
}

function fromProps (props) {
  const out = {}
  if (!props) return out
  for (const [name, ours] of Object.entries(propNames)) {
    if (props[name] !== undefined) out[ours] = props[name]
  }
  // mqtt.js models the Payload Format Indicator as a boolean.
  if (props.payloadFormatIndicator !== undefined) out.payloadFormat = props.payloadFormatIndicator ? 1 : 0
  if (props.correlationData !== undefined) out.correlationData = Buffer.from(props.correlationData).toString('utf8')
  if (props.userProperties !== undefined) {
    out.userProps = []
    for (const [k, v] of Object.entries(props.userProperties)) {
      for (const one of Array.isArray(v) ? v : [v]) out.userProps.push([k, String(one)])
    }
  }
  if (props.subscriptionIdentifier !== undefined) {
    const ids = props.subscriptionIdentifier
    out.subscriptionIds = Array.isArray(ids) ? ids : [ids]
  }
  return out
}

function toProps (spec) {
  const p = {}
  if (!spec) return p
  if (spec.messageExpiry != null) p.messageExpiryInterval = spec.messageExpiry
  if (spec.topicAlias != null) p.topicAlias = spec.topicAlias
  if (spec.responseTopic != null) p.responseTopic = spec.responseTopic
  if (spec.correlationData != null) p.correlationData = Buffer.from(spec.correlationData, 'utf8')
  if (spec.contentType != null) p.contentType = spec.contentType
  if (spec.payloadFormat != null) p.payloadFormatIndicator = spec.payloadFormat === 1
  if (spec.willDelay != null) p.willDelayInterval = spec.willDelay
  if (spec.userProps != null) {
    p.userProperties = {}
    for (const [k, v] of spec.userProps) {
      const prev = p.userProperties[k]
      p.userProperties[k] = prev === undefined ? v : [].concat(prev, v)
    }
  }
  return p
}

// One named client.
class Conn {
  constructor (name) {
    this.name = name
    this.client = null
    this.version = 4
    this.open = false
    this.holding = new Set() // acknowledgement kinds withheld: puback, pubrec, pubcomp
    this.held = []
    this.closeWaiters = []
    this.outstanding = new Set() // command ids waiting on the connection
    this.serverProps = {}
  }

  // Answers a command once; commands still waiting when the connection closes fail then.
  answer (id, ok = true, fields = {}) {
    if (!this.outstanding.delete(id)) return
    result(id, ok, fields)
  }

  track (id) { this.outstanding.add(id) }

  event (fields) { emit({ client: this.name, ...fields }) }

  whenClosed (id) {
    if (this.open) this.closeWaiters.push(id)
    else result(id)
  }

  connect (id, cmd) {
    if (this.open) return result(id, false, { error: 'already connected' })
    this.version = cmd.version ?? 4
    this.holding = new Set()
    this.held = []
    const properties = {}
    if (cmd.sessionExpiry != null) properties.sessionExpiryInterval = cmd.sessionExpiry
    if (cmd.receiveMaximum != null) properties.receiveMaximum = cmd.receiveMaximum
    if (cmd.maximumPacketSize != null) properties.maximumPacketSize = cmd.maximumPacketSize
    if (cmd.topicAliasMaximum != null) properties.topicAliasMaximum = cmd.topicAliasMaximum
    const opts = {
      host: cmd.host,
      port: cmd.port,
      protocol: 'mqtt',
      protocolVersion: this.version,
      clientId: cmd.clientId,
      clean: cmd.clean ?? true,
      keepalive: cmd.keepalive ?? 30,
      reconnectPeriod: 0, // a harness client stays down once its connection is gone
      connectTimeout: 5000,
      resubscribe: false,
    }
    if (this.version === 5 && Object.keys(properties).length > 0) opts.properties = properties
    if (cmd.will) {
      const w = cmd.will
      opts.will = { topic: w.topic, payload: Buffer.from(w.payload ?? '', 'utf8'), qos: w.qos ?? 0, retain: w.retain ?? false }
      if (this.version === 5 && w.willDelay != null) opts.will.properties = toProps({ willDelay: w.willDelay })
    }
    let answered = false
    const client = mqtt.connect(opts)
    this.client = client
    this.open = true
    // Withholding acknowledgements: mqtt.js handles incoming packets one after another, so
    // PUBACK/PUBREC/PUBCOMP are kept back at the send step while packet processing goes on.
    const send = client._sendPacket.bind(client)
    client._sendPacket = (packet, cb, cbStorePut, noStore) => {
      // The PUBLISH arrived (QoS 2 reaches 'message' only at PUBREL).
      if (packet.cmd === 'puback' || packet.cmd === 'pubrec') this.event({ ev: 'arrived', mid: packet.messageId })
      if (this.holding.has(packet.cmd)) {
        this.held.push([packet, cbStorePut, noStore])
        if (cb) cb()
        return
      }
      return send(packet, cb, cbStorePut, noStore)
    }
    this.send = send
    client.on('connect', (connack) => {
      this.serverProps = connack.properties ?? {}
      if (answered) return
      answered = true
      result(id, true, { reasonCode: connack.reasonCode ?? connack.returnCode ?? 0, sessionPresent: !!connack.sessionPresent, props: fromProps(connack.properties) })
    })
    client.on('error', (err) => {
      if (answered) return
      answered = true
      result(id, false, { reasonCode: typeof err.code === 'number' ? err.code : undefined, error: errorText(err) })
    })
    client.on('message', (topic, payload, packet) => {
      this.event({ ev: 'message', topic, payload: payload.toString('utf8'), qos: packet.qos, retain: !!packet.retain, dup: !!packet.dup, props: fromProps(packet.properties) })
    })
    client.on('disconnect', (packet) => this.event({ ev: 'serverDisconnect', reasonCode: packet.reasonCode ?? 0 }))
    client.on('close', () => {
      if (client !== this.client || !this.open) return
      this.open = false
      if (!answered) {
        answered = true
        result(id, false, { error: 'connection closed before CONNACK' })
      }
      const waiters = this.closeWaiters
      this.closeWaiters = []
      for (const w of waiters) result(w)
      for (const w of [...this.outstanding]) this.answer(w, false, { error: 'connection closed' })
      this.event({ ev: 'closed' })
    })
  }

  subscribe (id, cmd) {
    const opts = { qos: cmd.qos ?? 0 }
    if (this.version === 5) {
      opts.nl = !!cmd.noLocal
      opts.rap = !!cmd.retainAsPublished
      opts.rh = cmd.retainHandling ?? 0
      if (cmd.subscriptionId != null) opts.properties = { subscriptionIdentifier: cmd.subscriptionId }
    }
    this.track(id)
    this.client.subscribe(cmd.filter, opts, (err, granted) => {
      if (err && !granted) return this.answer(id, false, { error: errorText(err) })
      this.answer(id, true, { reasonCodes: (granted ?? []).map((g) => g.qos) })
    })
  }

  unsubscribe (id, cmd) {
    this.track(id)
    this.client.unsubscribe(cmd.filter, (err) => err ? this.answer(id, false, { error: errorText(err) }) : this.answer(id))
  }

  publish (id, cmd) {
    const base = cmd.payload ?? ''
    const payloads = cmd.count == null ? [base] : Array.from({ length: cmd.count }, (_, i) => `${base}${i}`)
    const opts = { qos: cmd.qos ?? 0, retain: !!cmd.retain }
    if (this.version === 5 && cmd.props) opts.properties = toProps(cmd.props)
    // A bounded window keeps QoS 1/2 in flight under the server's Receive Maximum.
    const window = Math.max(1, Math.min(10, this.serverProps.receiveMaximum ?? 10))
    let next = 0
    let done = 0
    let failed = false
    this.track(id)
    const pump = () => {
      while (!failed && next < payloads.length && next - done < window) {
        this.client.publish(cmd.topic, payloads[next++], opts, (err) => {
          if (failed) return
          if (err) {
            failed = true
            return this.answer(id, false, { reasonCode: typeof err.code === 'number' ? err.code : undefined, error: errorText(err) })
          }
          if (++done === payloads.length) this.answer(id)
          else pump()
        })
      }
    }
    pump()
  }

  holdAcks (id, cmd) {
    this.holding = new Set(cmd.kinds ?? ['puback', 'pubrec'])
    result(id)
  }

  releaseAcks (id) {
    this.holding = new Set()
    const held = this.held
    this.held = []
    for (const [packet, cbStorePut, noStore] of held) this.send(packet, undefined, cbStorePut, noStore)
    result(id, true, { released: held.length })
  }

  disconnect (id, cmd) {
    if (!this.open) return result(id)
    this.whenClosed(id)
    const packet = {}
    if (this.version === 5) {
      packet.reasonCode = cmd.reasonCode ?? 0
      if (cmd.sessionExpiry != null) packet.properties = { sessionExpiryInterval: cmd.sessionExpiry }
    }
    this.client.end(false, packet)
  }

  kill (id) {
    if (!this.open) return result(id)
    this.whenClosed(id)
    this.client.stream.destroy() // FIN without DISCONNECT
  }
}

const conns = new Map()
const ops = new Set(['connect', 'subscribe', 'unsubscribe', 'publish', 'holdAcks', 'releaseAcks', 'disconnect', 'kill'])

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
rl.on('line', (line) => {
  if (!line.trim()) return
  const cmd = JSON.parse(line)
  if (!ops.has(cmd.op)) return result(cmd.id, false, { error: `unknown op ${cmd.op}` })
  const name = cmd.client ?? ''
  let conn = conns.get(name)
  if (!conn) conns.set(name, (conn = new Conn(name)))
  if (cmd.op !== 'connect' && cmd.op !== 'kill' && !conn.client) return result(cmd.id, false, { error: 'not connected' })
  try {
    conn[cmd.op](cmd.id, cmd)
  } catch (err) {
    result(cmd.id, false, { error: errorText(err) })
  }
})
rl.on('close', () => process.exit(0))
