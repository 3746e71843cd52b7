// Runs detached from the command: POSTs one telemetry batch, giving up after 3 s.
const [endpoint, payload] = process.argv.slice(2)
fetch(endpoint, {
  method: 'POST',
  headers: {'content-type': 'application/json'},
  body: payload,
  signal: AbortSignal.timeout(3000),
})
  .catch(() => {})
  .finally(() => process.exit(0))
