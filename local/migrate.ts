/**
 * `npm run migrate`: moves the records of a table written by an earlier layout to the present one
 * (lambdas/core/store/migrate-layout.ts). Against a deployed table: `TABLE_NAME=<the stack's table> npm run migrate`
 * with AWS credentials in the environment; against DynamoDB Local: also `AWS_ENDPOINT_URL_DYNAMODB=http://localhost:8000`.
 * Safe to run while the gateway serves, and to run again.
 */
import { migrateRecordLayout } from '../lambdas/core/store/migrate-layout.js';
import { tableName } from '../lambdas/core/store/table.js';

console.log(`migrating the records of table ${tableName()} to the present layout…`);
const report = await migrateRecordLayout((r) => console.log(`  scanned ${r.scanned}, moved ${JSON.stringify(r.moved)}`));
console.log(`done: scanned ${report.scanned} items, moved ${JSON.stringify(report.moved)}`);
