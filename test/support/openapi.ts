import { Ajv2020 } from 'ajv/dist/2020.js';
import doc from '../../lambda/api/openapi.json' with { type: 'json' };

const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema({ $id: 'openapi.json', components: doc.components } as object);

type Paths = typeof doc.paths;

/** The path template a concrete path matches, as written in the OpenAPI document. */
export function templateOf(path: string): keyof Paths | undefined {
  for (const template of Object.keys(doc.paths) as Array<keyof Paths>) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (pattern.test(path)) return template;
  }
  return undefined;
}

/**
 * Checks a response to `method` (GET by default) against the OpenAPI document: the route, its
 * status and, for JSON, the body against the response's schema. Every route answers GET only, so
 * another method may get only the refusals a GET may get before any query: 400 (a path that is
 * not percent-encoding) and 405, both documented under `get`. Returns the problems (empty when it
 * conforms).
 */
export function conformance(
  path: string,
  status: number,
  contentType: string,
  body: string,
  method = 'GET',
): string[] {
  const template = templateOf(path);
  type Described = { $ref?: string; content?: Record<string, { schema: object }> };
  // An unknown route's 404, or a path that is not percent-encoding's 400, is the shared Error
  // response, whatever the method.
  let responses: Record<string, Described> =
    template === undefined
      ? {
          '400': { $ref: '#/components/responses/Error' },
          '404': { $ref: '#/components/responses/Error' },
        }
      : (doc.paths[template] as { get: { responses: Record<string, Described> } }).get.responses;
  if (template !== undefined && method !== 'GET') {
    if (responses['405'] === undefined) return [`${path}: 405 for ${method} is not documented`];
    responses = Object.fromEntries(
      Object.entries(responses).filter(([code]) => code === '400' || code === '405'),
    );
  }
  const where = method === 'GET' ? path : `${method} ${path}`;
  let described = responses[String(status)];
  if (described === undefined) return [`${where}: status ${status} is not documented`];
  if (described.$ref !== undefined)
    described = doc.components.responses.Error as unknown as typeof described;
  const media = contentType.split(';')[0]?.trim() ?? '';
  const schema = described.content?.[media]?.schema;
  if (schema === undefined) return [`${where}: ${status} ${media} is not documented`];
  if (media !== 'application/json') return [];
  const validate = ajv.compile(rebase(schema));
  return validate(JSON.parse(body))
    ? []
    : (validate.errors ?? []).map((e) => `${where} ${status}: ${e.instancePath} ${e.message}`);
}

/** The schema with local `#/components/…` references pointed at the registered document. */
function rebase(schema: object): object {
  return JSON.parse(
    JSON.stringify(schema).replace(/"#\/components\//g, '"openapi.json#/components/'),
  );
}
