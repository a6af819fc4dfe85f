// The seed examples with Corral's JavaScript SDK: FastMCP's TypeScript API
// (punkpeye/fastmcp), with only the import of FastMCP changed.
import { FastMCP, UserError } from 'corral-sdk'; // was: from 'fastmcp'
import { z } from 'zod';

const server = new FastMCP({ name: 'Seed', version: '1.0.0' });

server.addTool({
  name: 'multiply',
  description: 'Multiply two numbers.',
  parameters: z.object({ a: z.number(), b: z.number() }),
  outputSchema: z.number(),
  execute: async ({ a, b }) => a * b,
});

server.addTool({
  name: 'divide',
  description: 'Divide a by b.',
  parameters: z.object({ a: z.number(), b: z.number() }),
  outputSchema: z.number(),
  execute: async ({ a, b }) => {
    if (b === 0) throw new UserError('Division by zero is not allowed');
    return a / b;
  },
});

server.addResource({
  uri: 'data://config',
  name: 'get_config',
  description: 'Provides the application configuration.',
  mimeType: 'application/json',
  load: async () => ({
    text: JSON.stringify({ theme: 'dark', version: '1.0', features: ['analytics', 'reporting'] }),
  }),
});

server.addResourceTemplate({
  uriTemplate: 'users://{user_id}/profile',
  name: 'get_user_profile',
  description: "Retrieves a user's profile by ID.",
  mimeType: 'application/json',
  arguments: [{ name: 'user_id', description: 'The user ID', required: true }],
  load: async ({ user_id }) => ({
    text: JSON.stringify({ id: Number(user_id), name: `User ${user_id}`, status: 'active' }),
  }),
});

server.addPrompt({
  name: 'analyze_data',
  description: 'Creates a prompt asking for analysis of numerical data.',
  arguments: [{ name: 'data_points', description: 'The numbers to analyze, as a JSON array', required: true }],
  load: async ({ data_points }) => `Please analyze these data points: ${JSON.parse(data_points).join(', ')}`,
});

server.start({ transportType: 'stdio' });
