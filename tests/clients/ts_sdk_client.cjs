#!/usr/bin/env node
// The official TypeScript MCP SDK (@modelcontextprotocol/sdk, pinned in package.json) as a client
// of one opsmcp server over one transport:
//
//   node ts_sdk_client.cjs NODE_MODULES_PARENT URL(/mcp|/sse) TOOL
//
// initialize, tools/list (every page), resources/list and resources/templates/list (when the
// server declares resources), prompts/list (when it declares prompts), then one call of TOOL
// (no arguments): the result must not be an error and must carry a structuredContent
// object, which the SDK itself validates against the tool's outputSchema (it compiles every
// listed outputSchema with Ajv at tools/list). Every inputSchema is compiled with the SDK's own
// validator too, as clients that check arguments do.
//
// Anything written to the console or stderr — Ajv's `unknown format "uint64" ignored`, a
// deprecation, a transport error — fails the check: the point is a session with no warnings.
// Prints one JSON line on stdout: {ok, url, tools, resources, templates, prompts, tool, keys,
// problems}. Exit 0 when ok.
'use strict';

const path = require('path');
const { createRequire } = require('module');

const [, , parent, url, toolName] = process.argv;
if (!parent || !url || !toolName) {
  process.stdout.write('usage: ts_sdk_client.cjs NODE_MODULES_PARENT URL TOOL\n');
  process.exit(2);
}

// Everything that would reach a user's console is captured, not printed.
const problems = [];
const origStderrWrite = process.stderr.write.bind(process.stderr);
for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace']) {
  console[level] = (...args) => problems.push(`console.${level}: ${args.map(String).join(' ')}`);
}
process.stderr.write = (chunk, ...rest) => {
  problems.push(`stderr: ${String(chunk).trimEnd()}`);
  return true;
};
process.on('warning', (w) => problems.push(`process warning: ${w.name}: ${w.message}`));

const req = createRequire(path.join(parent, 'package.json'));
const { Client } = req('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = req('@modelcontextprotocol/sdk/client/streamableHttp.js');
const { SSEClientTransport } = req('@modelcontextprotocol/sdk/client/sse.js');
const { AjvJsonSchemaValidator } = req('@modelcontextprotocol/sdk/validation/ajv');
const sdkVersion = req('@modelcontextprotocol/sdk/package.json').version;

async function all(list, key) {
  const out = [];
  let cursor;
  for (let i = 0; i < 50; i++) {
    const page = await list(cursor === undefined ? undefined : { cursor });
    out.push(...page[key]);
    cursor = page.nextCursor;
    if (cursor === undefined || cursor === null) return out;
  }
  throw new Error(`${key}: still paginating after 50 pages`);
}

async function main() {
  const report = { ok: false, sdk: sdkVersion, url, tool: toolName, problems };
  const u = new URL(url);
  const transport = u.pathname.endsWith('/sse') ? new SSEClientTransport(u) : new StreamableHTTPClientTransport(u);
  const client = new Client({ name: 'opsmcp-tests-clients', version: '1.0.0' }, { capabilities: {} });
  let closing = false;
  client.onerror = (e) => {
    const msg = e && e.message ? e.message : String(e);
    // Closing aborts the transport's own open requests; that is us, not the server.
    if (closing && /AbortError|aborted/.test(msg)) return;
    problems.push(`client error: ${msg}`);
  };
  try {
    await client.connect(transport);
    const caps = client.getServerCapabilities() || {};
    report.server = client.getServerVersion();
    report.protocol = transport.protocolVersion || transport._protocolVersion;

    // tools/list, every page (the SDK compiles each page's output schemas with Ajv).
    const tools = await all((p) => client.listTools(p), 'tools');
    report.tools = tools.length;
    if (!tools.length) throw new Error('tools/list returned no tools');
    const validator = new AjvJsonSchemaValidator();
    for (const t of tools) validator.getValidator(t.inputSchema);
    const tool = tools.find((t) => t.name === toolName);
    if (!tool) throw new Error(`${toolName} is not in tools/list (${tools.map((t) => t.name).join(', ')})`);
    if (!tool.outputSchema) throw new Error(`${toolName} has no outputSchema`);
    report.readOnlyHint = Boolean(tool.annotations && tool.annotations.readOnlyHint);

    if (caps.resources) {
      report.resources = (await all((p) => client.listResources(p), 'resources')).length;
      report.templates = (await all((p) => client.listResourceTemplates(p), 'resourceTemplates')).length;
    } else {
      report.resources = 'not declared';
      report.templates = 'not declared';
    }
    if (caps.prompts) {
      report.prompts = (await all((p) => client.listPrompts(p), 'prompts')).length;
    } else {
      report.prompts = 'not declared';
    }

    // Cache the validator of the one tool we call even if it was on an earlier page.
    client.cacheToolMetadata([tool]);
    const result = await client.callTool({ name: toolName, arguments: {} });
    if (result.isError) throw new Error(`${toolName} returned isError: ${JSON.stringify(result).slice(0, 500)}`);
    const sc = result.structuredContent;
    if (!sc || typeof sc !== 'object' || Array.isArray(sc)) {
      throw new Error(`${toolName} has no structuredContent object: ${JSON.stringify(result).slice(0, 500)}`);
    }
    report.keys = Object.keys(sc).sort();
    report.ok = true;
  } catch (e) {
    report.error = e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : String(e);
  } finally {
    closing = true;
    try {
      await client.close();
    } catch (e) {
      problems.push(`close: ${e.message}`);
    }
  }
  // Give late async warnings a moment to surface.
  await new Promise((r) => setTimeout(r, 200));
  if (problems.length) report.ok = false;
  process.stdout.write(JSON.stringify(report) + '\n');
  process.stderr.write = origStderrWrite;
  process.exit(report.ok ? 0 : 1);
}

main();
