import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { GSIS, TTL_ATTRIBUTE } from '../../lambdas/core/store/schema.js';

export interface GatewayTableProps {
  /** RETAIN (with deletion protection) for real deployments; DESTROY only for throwaway dev stacks. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The single table holding every gateway record. Keys are generic strings so that the
 * store layer, not the infrastructure, decides the item layout. Index names and the TTL attribute come from the
 * store's own schema (the one the local server creates), so the two can never drift apart.
 */
export class GatewayTable extends dynamodb.Table {
  constructor(scope: Construct, id: string, props: GatewayTableProps) {
    const retain = props.removalPolicy !== RemovalPolicy.DESTROY;
    super(scope, id, {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: retain,
      removalPolicy: props.removalPolicy,
    });
    for (const name of GSIS) {
      this.addGlobalSecondaryIndex({
        indexName: name,
        partitionKey: { name: `${name}pk`, type: dynamodb.AttributeType.STRING },
        sortKey: { name: `${name}sk`, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }
}
