import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { rawBody: true });
  // SIGTERM/SIGINT run onApplicationShutdown: the pollers stop and the client closes.
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
  Logger.log(`listening on ${await app.getUrl()}`, 'Main');
}

void main();
