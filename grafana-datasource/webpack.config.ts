// The plugin's bundle, as Grafana's plugin tooling builds one: src/module.ts
// becomes an AMD module (dist/module.js) whose React, rxjs and @grafana/*
// imports are Grafana's own at run time, next to plugin.json, the logo,
// the screenshots and the documents the plugin catalog shows. The Go
// binaries that `make build` puts in dist/ are kept.
import CopyWebpackPlugin from 'copy-webpack-plugin';
import fs from 'fs';
import path from 'path';
import TerserPlugin from 'terser-webpack-plugin';
import webpack, { type Configuration } from 'webpack';
import VirtualModulesPlugin from 'webpack-virtual-modules';

const root = __dirname;
const pluginJson = JSON.parse(fs.readFileSync(path.join(root, 'plugin.json'), 'utf8'));
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

// What Grafana provides to every plugin through its AMD loader.
const externals: Configuration['externals'] = [
  { 'amd-module': 'module' },
  'lodash',
  'moment',
  'emotion',
  '@emotion/react',
  '@emotion/css',
  'react',
  'react/jsx-runtime',
  'react-dom',
  'react-redux',
  'redux',
  'rxjs',
  'rxjs/operators',
  'i18next',
  'react-router',
  'd3',
  /^@grafana\/ui/i,
  /^@grafana\/runtime/i,
  /^@grafana\/data/i,
  /^@grafana\/schema/i,
];

// Chunks load from where Grafana serves the plugin's files.
const publicPath = new VirtualModulesPlugin({
  'node_modules/grafana-public-path.js': `
import amdMetaModule from 'amd-module';
__webpack_public_path__ =
  amdMetaModule && amdMetaModule.uri
    ? amdMetaModule.uri.slice(0, amdMetaModule.uri.lastIndexOf('/') + 1)
    : 'public/plugins/${pluginJson.id}/';
`,
});

type Env = Record<string, unknown>;

const logos: string[] = Array.from(new Set([pluginJson.info?.logos?.small, pluginJson.info?.logos?.large])).filter(
  Boolean
) as string[];
const screenshots: string[] = (pluginJson.info?.screenshots ?? []).map((s: { path: string }) => s.path);

export default (env: Env): Configuration => ({
  context: path.join(root, 'src'),
  mode: env.production ? 'production' : 'development',
  devtool: env.production ? 'source-map' : 'eval-source-map',
  entry: { module: './module.ts' },
  externals,
  module: {
    rules: [
      {
        test: /src\/module\.tsx?$/,
        use: [{ loader: 'imports-loader', options: { imports: 'side-effects grafana-public-path' } }],
      },
      {
        test: /\.[tj]sx?$/,
        exclude: /node_modules/,
        use: {
          loader: 'swc-loader',
          options: {
            jsc: {
              target: 'es2015',
              parser: { syntax: 'typescript', tsx: true },
              transform: { react: { runtime: 'classic' } },
            },
          },
        },
      },
      { test: /\.css$/, use: ['style-loader', 'css-loader'] },
      { test: /\.(png|jpe?g|gif|svg)$/, type: 'asset/resource' },
    ],
  },
  optimization: {
    minimize: Boolean(env.production),
    minimizer: [new TerserPlugin({ extractComments: false, terserOptions: { compress: { drop_console: ['log', 'info'] } } })],
  },
  output: {
    path: path.join(root, 'dist'),
    filename: '[name].js',
    chunkFilename: '[name].js?_cache=[contenthash]',
    library: { type: 'amd' },
    publicPath: `public/plugins/${pluginJson.id}/`,
    uniqueName: pluginJson.id,
    clean: { keep: /(gpx_.*|go_plugin_build_manifest)/ },
  },
  plugins: [
    publicPath,
    new webpack.BannerPlugin({ banner: `${pluginJson.id}@${pkg.version}`, entryOnly: true }),
    new CopyWebpackPlugin({
      patterns: [
        { from: path.join(root, 'plugin.json'), to: '.' },
        { from: path.join(root, 'README.md'), to: '.' },
        { from: path.join(root, 'CHANGELOG.md'), to: '.' },
        { from: path.join(root, 'LICENSE'), to: '.' },
        ...[...logos, ...screenshots].map((p) => ({ from: path.join(root, p), to: p })),
      ],
    }),
  ],
  resolve: {
    extensions: ['.js', '.jsx', '.ts', '.tsx'],
    modules: [path.join(root, 'src'), 'node_modules'],
  },
});
