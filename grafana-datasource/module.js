// The browser half of scmon's Grafana data source, written by hand: the
// plugin does its work in its Go backend (gpx_scmon), and Grafana's pages
// still load a module.js for every data source to configure it and to edit
// its queries. This one needs no build step (no npm): it is an AMD module
// using only what Grafana shares with plugins (@grafana/data,
// @grafana/runtime, react).
//
//   - queries go to the backend unchanged, after dashboard variables in
//     their string fields are replaced (multi-value variables as
//     comma-separated lists, which the backend splits);
//   - the configuration page edits jsonData.url, basicAuthUser,
//     tlsSkipVerify, timeout and secureJsonData.basicAuthPassword;
//   - the query editor is the query's JSON (see the README for the model).
define(['@grafana/data', '@grafana/runtime', 'react'], function (grafanaData, grafanaRuntime, React) {
  'use strict';

  var h = React.createElement;

  // Fields Grafana owns in a query; everything else is the plugin's model.
  var grafanaKeys = ['refId', 'datasource', 'hide', 'key', 'queryType'];

  class ScmonDataSource extends grafanaRuntime.DataSourceWithBackend {
    constructor(settings) {
      super(settings);
    }

    getDefaultQuery() {
      return { queryType: 'figures', every: 'auto' };
    }

    // applyTemplateVariables replaces dashboard variables in every string
    // and list-of-strings field of the query before it goes to the backend.
    applyTemplateVariables(query, scopedVars) {
      var srv = grafanaRuntime.getTemplateSrv();
      var replace = function (v) {
        return typeof v === 'string' ? srv.replace(v, scopedVars, 'csv') : v;
      };
      var out = Object.assign({}, query);
      Object.keys(out).forEach(function (k) {
        if (k === 'refId' || k === 'datasource') {
          return;
        }
        out[k] = Array.isArray(out[k]) ? out[k].map(replace) : replace(out[k]);
      });
      return out;
    }
  }

  function field(label, input) {
    return h('div', { style: { margin: '0 0 12px 0' } },
      h('label', { style: { display: 'block', fontWeight: 500, marginBottom: '4px' } }, label), input);
  }

  var inputStyle = { width: '100%', maxWidth: '480px' };

  // ConfigEditor edits the settings the backend reads (pkg/plugin/settings.go).
  function ConfigEditor(props) {
    var options = props.options;
    var jsonData = options.jsonData || {};
    var secureFields = options.secureJsonFields || {};
    var setJSON = function (key, value) {
      var next = Object.assign({}, jsonData);
      next[key] = value;
      props.onOptionsChange(Object.assign({}, options, { jsonData: next }));
    };
    var setPassword = function (value) {
      props.onOptionsChange(Object.assign({}, options, { secureJsonData: { basicAuthPassword: value } }));
    };
    var resetPassword = function () {
      props.onOptionsChange(Object.assign({}, options, {
        secureJsonFields: Object.assign({}, secureFields, { basicAuthPassword: false }),
        secureJsonData: { basicAuthPassword: '' },
      }));
    };
    var password = secureFields.basicAuthPassword
      ? h('span', null, 'configured ', h('button', { type: 'button', onClick: resetPassword }, 'Reset'))
      : h('input', {
        type: 'password', style: inputStyle, autoComplete: 'new-password',
        value: (options.secureJsonData || {}).basicAuthPassword || '',
        onChange: function (e) { setPassword(e.target.value); },
      });
    return h('div', null,
      field('scmon URL (the address of `scmon serve`, such as http://scmon.example.org:9810)', h('input', {
        type: 'text', style: inputStyle, placeholder: 'http://localhost:9810',
        value: jsonData.url || '',
        onChange: function (e) { setJSON('url', e.target.value); },
      })),
      field('Basic auth user (when scmon\'s --web.config.file asks for one)', h('input', {
        type: 'text', style: inputStyle, value: jsonData.basicAuthUser || '',
        onChange: function (e) { setJSON('basicAuthUser', e.target.value); },
      })),
      field('Basic auth password', password),
      field('Skip TLS certificate verification', h('input', {
        type: 'checkbox', checked: !!jsonData.tlsSkipVerify,
        onChange: function (e) { setJSON('tlsSkipVerify', e.target.checked); },
      })),
      field('Timeout per request to scmon, in seconds (default 30)', h('input', {
        type: 'number', min: 1, max: 600, style: { width: '120px' },
        value: jsonData.timeout === undefined ? '' : jsonData.timeout,
        onChange: function (e) {
          setJSON('timeout', e.target.value === '' ? undefined : Number(e.target.value));
        },
      })));
  }

  // modelText is the query's model as the editor shows it.
  function modelText(query) {
    var model = {};
    Object.keys(query).forEach(function (k) {
      if (grafanaKeys.indexOf(k) < 0) {
        model[k] = query[k];
      }
    });
    return JSON.stringify(model, null, 2);
  }

  // QueryEditor edits the query type and the query's JSON model; the model
  // is applied when the text area loses focus, if it parses.
  class QueryEditor extends React.Component {
    constructor(props) {
      super(props);
      this.state = { text: modelText(props.query), error: '' };
    }

    apply(queryType, text) {
      var model;
      try {
        model = JSON.parse(text || '{}');
      } catch (e) {
        this.setState({ error: 'not JSON: ' + e.message });
        return;
      }
      if (model === null || typeof model !== 'object' || Array.isArray(model)) {
        this.setState({ error: 'the model must be a JSON object' });
        return;
      }
      this.setState({ error: '' });
      var q = this.props.query;
      this.props.onChange(Object.assign({}, model, { refId: q.refId, datasource: q.datasource, hide: q.hide, queryType: queryType }));
      this.props.onRunQuery();
    }

    render() {
      var self = this;
      var queryType = this.props.query.queryType || 'figures';
      return h('div', null,
        h('select', {
          value: queryType,
          onChange: function (e) { self.apply(e.target.value, self.state.text); },
        },
        h('option', { value: 'figures' }, 'figures: utilization and AI share over time'),
        h('option', { value: 'table' }, 'table: top groups of the range'),
        h('option', { value: 'jobs' }, 'jobs: job rows with class and rules')),
        h('textarea', {
          rows: 8, spellCheck: false, style: { display: 'block', width: '100%', fontFamily: 'monospace', marginTop: '4px' },
          value: this.state.text,
          onChange: function (e) { self.setState({ text: e.target.value }); },
          onBlur: function () { self.apply(queryType, self.state.text); },
        }),
        this.state.error ? h('div', { style: { color: '#e02f44' } }, this.state.error) : null);
    }
  }

  var plugin = new grafanaData.DataSourcePlugin(ScmonDataSource)
    .setConfigEditor(ConfigEditor)
    .setQueryEditor(QueryEditor);

  return { plugin: plugin };
});
