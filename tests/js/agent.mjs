// An mqtt.js 5.x client driven by JSON lines, for AccessLayer.Gateway.Tests.
//
// Usage: node agent.mjs HOST PORT
//
// Commands arrive on stdin, one JSON object a line, each with an integer "id" and an "op";
// every command is answered by {"ev":"result","id":..,"ok":true|false,...}. Unsolicited events:
// {"ev":"message",...}, {"ev":"serverDisconnect","reasonCode":N}, {"ev":"closed"}.
// The protocol is the same as tests/python/agent.py (see ScriptedClient.cs for the C# side).
// End of stdin ends the process at once, without DISCONNECT (an abrupt client death).
import mqtt from 'mqtt'
import readline from 'node:readline'

const [host, portText] = process.argv.slice(2)
const port = Number(portText)

const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const result = (id, ok = true, fields = {}) => emit({ ev: 'result', id, ok, ...fields })

let client = null
let version = 4
let closed = false
let holding = false
let held = []
let pendingDisconnect = null
let serverProps = {}

const propNames = {
  messageExpiryInterval: 'messageExpiry',
  topicAlias: 'topicAlias',
  responseTopic: 'responseTopic',
  contentType: 'contentType',
  payloadFormatIndicator: 'payloadFormat',
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
  if (!spec) return undefined
  const p = {}
  if (spec.messageExpiry !== undefined) p.messageExpiryInterval = spec.messageExpiry
  if (spec.topicAlias !== undefined) p.topicAlias = spec.topicAlias
  if (spec.responseTopic !== undefined) p.responseTopic = spec.responseTopic
  if (spec.correlationData !== undefined) p.correlationData = Buffer.from(spec.correlationData, 'utf8')
  if (spec.contentType !== undefined) p.contentType = spec.contentType
  if (spec.payloadFormat !== undefined) p.payloadFormatIndicator = spec.payloadFormat
  if (spec.willDelay !== undefined) p.willDelayInterval = spec.willDelay
  if (spec.userProps !== undefined) {
    p.userProperties = {}
    for (const [k, v] of spec.userProps) {
      const prev = p.userProperties[k]
      p.userProperties[k] = prev === undefined ? v : [].concat(prev, v)
    }
  }
  return p
}

function onClosed () {
  if (closed) return
  closed = true
  if (pendingDisconnect !== null) {
    result(pendingDisconnect)
    pendingDisconnect = null
  }
  emit({ ev: 'closed' })
}

const ops = {
  connect (id, cmd) {
    version = cmd.version ?? 4
    const properties = {}
    if (cmd.sessionExpiry !== undefined) properties.sessionExpiryInterval = cmd.sessionExpiry
    if (cmd.receiveMaximum !== undefined) properties.receiveMaximum = cmd.receiveMaximum
    if (cmd.maximumPacketSize !== undefined) properties.maximumPacketSize = cmd.maximumPacketSize
    if (cmd.topicAliasMaximum !== undefined) properties.topicAliasMaximum = cmd.topicAliasMaximum
    const opts = {
      host,
      port,
      protocol: 'mqtt',
      protocolVersion: version,
      clientId: cmd.clientId,
      clean: cmd.clean ?? true,
      keepalive: cmd.keepalive ?? 30,
      reconnectPeriod: 0, // a harness client stays down once the broker drops it
      connectTimeout: 5000,
      resubscribe: false,
    }
    if (version === 5 && Object.keys(properties).length > 0) opts.properties = properties
    if (cmd.will) {
      const w = cmd.will
      opts.will = { topic: w.topic, payload: Buffer.from(w.payload ?? '', 'utf8'), qos: w.qos ?? 0, retain: w.retain ?? false }
      if (version === 5) {
        const wp = toProps({ willDelay: w.willDelay, messageExpiry: w.messageExpiry, userProps: w.userProps, contentType: w.contentType })
        for (const k of Object.keys(wp)) if (wp[k] === undefined) delete wp[k]
        if (Object.keys(wp).length > 0) opts.will.properties = wp
      }
    }
    let answered = false
    client = mqtt.connect(opts)
    // Holding acknowledgements: mqtt.js handles incoming packets one after another, so the
    // PUBACK/PUBREC is withheld at the send step while packet processing goes on.
    const send = client._sendPacket.bind(client)
    client._sendPacket = (packet, cb, cbStorePut, noStore) => {
      if (holding && (packet.cmd === 'puback' || packet.cmd === 'pubrec')) {
        held.push([packet, cbStorePut, noStore])
        if (cb) cb()
        return
      }
      return send(packet, cb, cbStorePut, noStore)
    }
    client.on('connect', (connack) => {
      serverProps = connack.properties ?? {}
      if (!answered) {
        answered = true
        result(id, true, { reasonCode: connack.reasonCode ?? connack.returnCode ?? 0, sessionPresent: !!connack.sessionPresent, props: fromProps(connack.properties) })
      }
    })
    client.on('error', (err) => {
      if (!answered) {
        answered = true
        result(id, false, { reasonCode: err.code, error: String(err.message ?? err) })
      }
    })
    client.on('message', (topic, payload, packet) => {
      emit({ ev: 'message', topic, payload: payload.toString('utf8'), qos: packet.qos, retain: !!packet.retain, dup: !!packet.dup, props: fromProps(packet.properties) })
    })
    client.on('disconnect', (packet) => emit({ ev: 'serverDisconnect', reasonCode: packet.reasonCode ?? 0 }))
    client.on('close', () => {
      if (!answered) {
        answered = true
        result(id, false, { error: 'connection closed before CONNACK' })
      }
      onClosed()
    })
  },

  subscribe (id, cmd) {
    const opts = { qos: cmd.qos ?? 0 }
    if (version === 5) {
      opts.nl = !!cmd.noLocal
      opts.rap = !!cmd.retainAsPublished
      opts.rh = cmd.retainHandling ?? 0
      if (cmd.subscriptionId !== undefined) opts.properties = { subscriptionIdentifier: cmd.subscriptionId }
    }
    client.subscribe(cmd.filter, opts, (err, granted) => {
      if (err && !granted) return result(id, false, { error: String(err.message ?? err) })
      result(id, true, { reasonCodes: (granted ?? []).map((g) => g.qos) })
    })
  },

  unsubscribe (id, cmd) {
    client.unsubscribe(cmd.filter, (err) => err ? result(id, false, { error: String(err.message ?? err) }) : result(id))
  },

  publish (id, cmd) {
    const count = cmd.count
    const payloads = count === undefined ? [cmd.payload ?? ''] : Array.from({ length: count }, (_, i) => `${cmd.payload ?? ''}${i}`)
    const opts = { qos: cmd.qos ?? 0, retain: !!cmd.retain }
    if (version === 5 && cmd.props) opts.properties = toProps(cmd.props)
    // A bounded window keeps QoS 1/2 in flight under the server's Receive Maximum.
    const window = Math.max(1, Math.min(10, serverProps.receiveMaximum ?? 10))
    let next = 0
    let done = 0
    let failed = false
    let lastReason
    const pump = () => {
      while (!failed && next < payloads.length && next - done < window) {
        const payload = payloads[next++]
        client.publish(cmd.topic, payload, opts, (err, packet) => {
          if (failed) return
          if (err) {
            failed = true
            return result(id, false, { reasonCode: err.code, error: String(err.message ?? err) })
          }
          if (packet && packet.reasonCode !== undefined) lastReason = packet.reasonCode
          done++
          if (done === payloads.length) result(id, true, lastReason === undefined ? {} : { reasonCode: lastReason })
          else pump()
        })
      }
    }
    pump()
  },

  holdAcks (id) {
    holding = true
    result(id)
  },

  releaseAcks (id) {
    holding = false
    const toSend = held
    held = []
    for (const [packet, cbStorePut, noStore] of toSend) client._sendPacket(packet, undefined, cbStorePut, noStore)
    result(id, true, { released: toSend.length })
  },

  disconnect (id, cmd) {
    if (!client || closed) return result(id)
    pendingDisconnect = id
    const packet = {}
    if (version === 5) {
      packet.reasonCode = cmd.reasonCode ?? 0
      if (cmd.sessionExpiry !== undefined) packet.properties = { sessionExpiryInterval: cmd.sessionExpiry }
    }
    client.end(false, packet, () => onClosed())
  },
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
rl.on('line', (line) => {
  if (!line.trim()) return
  const cmd = JSON.parse(line)
  const handler = ops[cmd.op]
  if (!handler) return result(cmd.id, false, { error: `unknown op ${cmd.op}` })
  try {
    handler(cmd.id, cmd)
  } catch (err) {
    result(cmd.id, false, { error: String(err.message ?? err) })
  }
})
// stdin closed: the harness is done with us (or died); vanish without DISCONNECT.
rl.on('close', () => process.exit(0))
