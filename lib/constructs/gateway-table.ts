import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';

export interface GatewayTableProps {
  /** RETAIN (with deletion protection) for real deployments; DESTROY only for throwaway dev stacks. */
  readonly removalPolicy: RemovalPolicy;
}

/** Names of the generic global secondary indexes; each is keyed `<name>pk` / `<name>sk`. */
const GATEWAY_TABLE_INDEXES = ['gsi1', 'gsi2', 'gsi3'] as const;

/**
 * The single table holding every gateway record. Keys are generic strings so that the
 * store layer, not the infrastructure, decides the item layout.
 */
export class GatewayTable extends dynamodb.Table {
  constructor(scope: Construct, id: string, props: GatewayTableProps) {
    const retain = props.removalPolicy !== RemovalPolicy.DESTROY;
    super(scope, id, {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'ttl',
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: retain,
      removalPolicy: props.removalPolicy,
    });
    for (const name of GATEWAY_TABLE_INDEXES) {
      this.addGlobalSecondaryIndex({
        indexName: name,
        partitionKey: { name: `${name}pk`, type: dynamodb.AttributeType.STRING },
        sortKey: { name: `${name}sk`, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }
}
