// Preloaded with `node --import` (host tests, bench/startup.ts): appends every module the process loads (ES modules as
// they resolve, CommonJS modules at exit) to the file named by MODULE_TRACE_FILE, one URL or path a line.
import {appendFileSync} from 'node:fs'
import {createRequire, register} from 'node:module'

const file = process.env.MODULE_TRACE_FILE
if (file) {
  const hooks = `
    import {appendFileSync} from 'node:fs'
    export async function resolve(specifier, context, next) {
      const resolved = await next(specifier, context)
      appendFileSync(${JSON.stringify(file)}, resolved.url + '\\n')
      return resolved
    }`
  register(`data:text/javascript,${encodeURIComponent(hooks)}`)
  const {cache} = createRequire(import.meta.url)
  process.on('exit', () => appendFileSync(file, Object.keys(cache).join('\n') + '\n'))
}
