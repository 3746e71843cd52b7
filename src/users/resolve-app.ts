import type {AdminApiClient} from '../admin-api/client.js'
import type {App} from '../admin-api/types.js'
import {ApiError, CliError} from '../errors.js'

export interface AppQuery {
  app: string
  project?: string
  /** Picks one of several matches; absent when no one can be asked. */
  choose?: (apps: App[]) => Promise<App>
}

/**
 * Finds the app by exact `_id`, client app id or name, then by client app id
 * prefix (as the official CLI did), in the given project or in every project
 * the API key can see.
 */
export async function resolveApp(client: AdminApiClient, query: AppQuery): Promise<App> {
  const projects = query.project ? [query.project] : await visibleProjects(client)
  const listed = await Promise.all(
    projects.map((project) => listProjectApps(client, project, Boolean(query.project))),
  )
  const matches = matchApps(listed.flat(), query.app)
  if (matches.length === 1) return matches[0]
  if (matches.length === 0) {
    const unreadable = listed.filter((apps) => apps === UNREADABLE).length
    const where = projects.length === 1 ? `project ${projects[0]}` : `${projects.length} projects`
    throw new CliError(
      `No app matches "${query.app}" in ${where}${unreadable ? ` (${unreadable} of them could not be read with this API key)` : ''}`,
      {code: 'AppNotFound', suggestion: 'check --app (a name, client app id or _id) and --project'},
    )
  }
  if (query.choose) return query.choose(matches)
  const names = matches.map((app) => `${app.name} (${app.client_app_id}, project ${app.group_id})`).join('; ')
  throw new CliError(`"${query.app}" matches ${matches.length} apps: ${names}`, {
    code: 'AmbiguousApp',
    suggestion: 'pass --project or the full client app id',
  })
}

export function matchApps(apps: App[], wanted: string): App[] {
  const unique = [...new Map(apps.map((app) => [`${app.group_id}/${app._id}`, app])).values()]
  const exact = unique.filter(
    (app) => app._id === wanted || app.client_app_id === wanted || app.name === wanted,
  )
  if (exact.length > 0) return exact
  return unique.filter((app) => app.client_app_id?.startsWith(wanted))
}

async function visibleProjects(client: AdminApiClient): Promise<string[]> {
  const profile = await client.getProfile()
  const ids = (profile.roles ?? []).map((role) => role.group_id).filter((id): id is string => Boolean(id))
  return [...new Set(ids)]
}

/** A project the profile lists but this key cannot open; it is skipped, and counted in the not-found error. */
const UNREADABLE: App[] = []

async function listProjectApps(client: AdminApiClient, project: string, named: boolean): Promise<App[]> {
  try {
    return await client.listApps(project)
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 403)) {
      // A project the profile lists but cannot open is skipped; one the user named is an error.
      if (!named) return UNREADABLE
      throw new CliError(
        `Project ${project} was not found or is not visible to this API key (HTTP ${error.status})`,
        {
          code: 'ProjectNotFound',
          suggestion: 'check --project (the Atlas project id)',
        },
      )
    }
    throw error
  }
}
