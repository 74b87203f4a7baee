import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The single table's physical shape, shared by the local server (which creates it in DynamoDB Local) and
 * described identically by the CDK stack. Layout of the items: docs/data-model.md.
 */
export const GSIS = ['gsi1', 'gsi2', 'gsi3'] as const;
export const TTL_ATTRIBUTE = 'ttl';

export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      ...GSIS.flatMap((g) => [
        { AttributeName: `${g}pk`, AttributeType: 'S' as const },
        { AttributeName: `${g}sk`, AttributeType: 'S' as const },
      ]),
    ],
    GlobalSecondaryIndexes: GSIS.map((g) => ({
      IndexName: g,
      KeySchema: [
        { AttributeName: `${g}pk`, KeyType: 'HASH' as const },
        { AttributeName: `${g}sk`, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
  };
}
