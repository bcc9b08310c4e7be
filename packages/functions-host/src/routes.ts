/** Compiles a Functions route template ("runs/{id}", "runs/{id:guid}", "x/{rest?}") to a matcher. */
export interface CompiledRoute {
  template: string;
  match(path: string): Record<string, string> | undefined;
}

export function compileRoute(template: string): CompiledRoute {
  const names: string[] = [];
  const pattern = template
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .map((seg) => {
      const m = /^\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]+)?(\?)?\}$/.exec(seg);
      if (!m) return `/${seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
      names.push(m[2]!);
      if (m[1]) return '(?:/(.*))?';
      return m[3] ? '(?:/([^/]+))?' : '/([^/]+)';
    })
    .join('');
  const re = new RegExp(`^${pattern}/?$`, 'i');
  return {
    template,
    match(path) {
      const m = re.exec(path);
      if (!m) return undefined;
      const params: Record<string, string> = {};
      try {
        names.forEach((n, i) => {
          if (m[i + 1] !== undefined) params[n] = decodeURIComponent(m[i + 1]!);
        });
      } catch {
        return undefined; // a malformed %-escape matches no route (404), as in Azure
      }
      return params;
    },
  };
}
