import { RemovalPolicy } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  SecurityGroup,
  SubnetType,
  Vpc,
  type VpcProps,
} from 'aws-cdk-lib/aws-ec2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface NetworkProps {
  /** @default 1 */
  readonly natGateways?: number;
  /** @default FlowLogTrafficType.REJECT */
  readonly flowLogTraffic?: FlowLogTrafficType;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
  /** overrides for the VPC */
  readonly vpcProps?: Partial<VpcProps>;
}

/**
 * A two-AZ VPC: private subnets with egress (through NAT) for the functions, isolated subnets for the
 * database, flow logs on; plus the one security group that all functions share.
 */
export class Network extends Construct {
  readonly vpc: Vpc;
  readonly functionSecurityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkProps = {}) {
    super(scope, id);
    const flowLogGroup = new LogGroup(this, 'FlowLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.vpc = new Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: props.natGateways ?? 1,
      subnetConfiguration: [
        { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'functions', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'database', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      flowLogs: {
        cloudwatch: {
          destination: FlowLogDestination.toCloudWatchLogs(flowLogGroup),
          trafficType: props.flowLogTraffic ?? FlowLogTrafficType.REJECT,
        },
      },
      ...props.vpcProps,
    });
    this.functionSecurityGroup = new SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc: this.vpc,
      description: 'JobEngine Lambda functions',
      // functions call AWS APIs (SQS, Secrets Manager, API Gateway management) through the NAT
      allowAllOutbound: true,
    });
  }
}
