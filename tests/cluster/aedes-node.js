'use strict'
// One node of a two-node MQTT broker cluster for scripts/cluster-test.sh: an aedes broker on a
// loopback port whose retained messages, subscriptions and persistent sessions live in Redis
// (aedes-persistence-redis) and whose messages reach the other nodes through Redis pub/sub
// (mqemitter-redis). Every node started with the same Redis port is one broker to the clients.
//
//   node aedes-node.js NAME MQTT_PORT REDIS_PORT
//
// Prints "aedes NAME listening on 127.0.0.1:MQTT_PORT" once it accepts connections (the script
// waits for that line) and exits non-zero on any error, so that a broken node fails the test
// instead of hanging it.

const net = require('net')
const aedesFactory = require('aedes')
const redisPersistence = require('aedes-persistence-redis')
const redisEmitter = require('mqemitter-redis')

function usage (message) {
  console.error(`aedes-node: ${message}`)
  console.error('usage: node aedes-node.js NAME MQTT_PORT REDIS_PORT')
  process.exit(2)
}

function portArg (value, what) {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 1 || port > 65535) usage(`${what} '${value}' is not a port`)
  return port
}

const [name, mqttArg, redisArg] = process.argv.slice(2)
if (!name) usage('a node name is required')
const mqttPort = portArg(mqttArg, 'MQTT_PORT')
const redisPort = portArg(redisArg, 'REDIS_PORT')
const redis = { host: '127.0.0.1', port: redisPort }

function fatal (what, err) {
  console.error(`aedes ${name}: ${what}: ${err && err.stack ? err.stack : err}`)
  process.exit(1)
}

const broker = aedesFactory({
  id: name,
  mq: redisEmitter(redis),
  persistence: redisPersistence(redis),
  // MQTT 3.1.1 only requires brokers to accept 23 characters; the agent's client id is
  // lucid-agent-{agent_id} and lucidctl's carries its pid and a random suffix.
  maxClientsIdLength: 256
})
broker.on('error', (err) => fatal('broker error', err))
// Which node each client reached, so that a failing run shows where agents and lucidctl were.
broker.on('client', (client) => console.log(`aedes ${name}: connected ${client.id}`))
broker.on('clientDisconnect', (client) => console.log(`aedes ${name}: disconnected ${client.id}`))

const server = net.createServer(broker.handle)
server.on('error', (err) => fatal(`cannot listen on 127.0.0.1:${mqttPort}`, err))
server.listen(mqttPort, '127.0.0.1', () => {
  console.log(`aedes ${name} listening on 127.0.0.1:${mqttPort} (redis 127.0.0.1:${redisPort})`)
})

function shutdown () {
  server.close()
  broker.close(() => process.exit(0))
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
