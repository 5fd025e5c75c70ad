import { App } from 'aws-cdk-lib';
import { addJobEngine } from '../lib/job-engine-app.ts';

const app = new App();
addJobEngine(app);
app.synth();
