// Loads the plugin's hand-written module.js with small stand-ins for the
// modules Grafana shares with plugins, and checks what Grafana calls: the
// exported plugin, the data source's variable interpolation, the
// configuration editor and the query editor. Run by TestModuleJS.
'use strict';
const assert = require('assert');
const fs = require('fs');
const vm = require('vm');

const stubs = {
  '@grafana/data': {
    DataSourcePlugin: class {
      constructor(ds) { this.DataSourceClass = ds; this.components = {}; }
      setConfigEditor(c) { this.components.ConfigEditor = c; return this; }
      setQueryEditor(c) { this.components.QueryEditor = c; return this; }
    },
  },
  '@grafana/runtime': {
    DataSourceWithBackend: class { constructor(s) { this.instanceSettings = s; } },
    getTemplateSrv: () => ({
      replace: (v, vars, format) => v.split('$partition').join(format === 'csv' ? 'cpu,gpu' : '{cpu,gpu}'),
    }),
  },
  react: {
    createElement: (type, props, ...children) => ({ type, props: props || {}, children }),
    Component: class {
      constructor(props) { this.props = props; }
      setState(s) { this.state = Object.assign({}, this.state, s); }
    },
  },
};

let exported;
const sandbox = {
  define: (deps, factory) => { exported = factory(...deps.map((d) => stubs[d])); },
  JSON, Object, Array, Number,
};
vm.runInNewContext(fs.readFileSync(process.argv[2], 'utf8'), sandbox, { filename: 'module.js' });

// The plugin.
const plugin = exported.plugin;
assert.ok(plugin, 'module.js exports no plugin');
assert.ok(plugin.components.ConfigEditor && plugin.components.QueryEditor, 'editors missing');

// Variables are replaced in strings and lists, as CSV; other fields kept.
const ds = new plugin.DataSourceClass({ id: 1 });
const q = ds.applyTemplateVariables({ refId: 'A', queryType: 'jobs', partitions: ['$partition', 'npu'], accounts: '$partition', limit: 5 }, {});
assert.deepStrictEqual(JSON.parse(JSON.stringify(q)), { refId: 'A', queryType: 'jobs', partitions: ['cpu,gpu', 'npu'], accounts: 'cpu,gpu', limit: 5 });
assert.deepStrictEqual(JSON.parse(JSON.stringify(ds.getDefaultQuery())), { queryType: 'figures', every: 'auto' });

// Walks an element tree.
function find(el, pred) {
  if (!el || typeof el !== 'object') return null;
  if (pred(el)) return el;
  for (const c of el.children || []) {
    const f = find(c, pred);
    if (f) return f;
  }
  return null;
}

// The configuration editor writes jsonData and the secure password.
let changed;
const options = { jsonData: { url: 'http://old:9810' }, secureJsonFields: {} };
let tree = plugin.components.ConfigEditor({ options, onOptionsChange: (o) => { changed = o; } });
find(tree, (e) => e.type === 'input' && e.props.value === 'http://old:9810').props.onChange({ target: { value: 'http://scmon:9810' } });
assert.strictEqual(changed.jsonData.url, 'http://scmon:9810');
find(tree, (e) => e.type === 'input' && e.props.type === 'password').props.onChange({ target: { value: 's3cret' } });
assert.strictEqual(changed.secureJsonData.basicAuthPassword, 's3cret');
find(tree, (e) => e.type === 'input' && e.props.type === 'number').props.onChange({ target: { value: '45' } });
assert.strictEqual(changed.jsonData.timeout, 45);
tree = plugin.components.ConfigEditor({ options: { jsonData: {}, secureJsonFields: { basicAuthPassword: true } }, onOptionsChange: (o) => { changed = o; } });
find(tree, (e) => e.type === 'button').props.onClick();
assert.strictEqual(changed.secureJsonFields.basicAuthPassword, false);

// The query editor shows the model and applies edited JSON.
let query; let runs = 0;
const ed = new plugin.components.QueryEditor({
  query: { refId: 'B', queryType: 'table', groupBy: 'account', datasource: { uid: 'x' } },
  onChange: (nq) => { query = nq; }, onRunQuery: () => { runs++; },
});
assert.deepStrictEqual(JSON.parse(ed.state.text), { groupBy: 'account' });
ed.render();
ed.apply('table', '{"groupBy":"partition","limit":3}');
assert.deepStrictEqual(JSON.parse(JSON.stringify(query)), { groupBy: 'partition', limit: 3, refId: 'B', datasource: { uid: 'x' }, queryType: 'table' });
assert.strictEqual(runs, 1);
ed.apply('table', '{"groupBy":');
assert.match(ed.state.error, /not JSON/);
ed.apply('table', '[1]');
assert.match(ed.state.error, /JSON object/);
assert.strictEqual(runs, 1);
console.log('module.js ok');
