export {BaseCommand} from './base-command.js'
export {CliError} from './errors.js'
