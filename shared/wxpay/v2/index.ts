// WeChat Pay API v2 (legacy XML mode). Importing this pulls in xml2js only when XML is first parsed.
export * from './ack';
export * from './client';
export * from './errors';
export * from './notify';
export * from './pay-sign';
export * from './sign';
export * from './xml';
