// Placeholder: replaced by the Kafka broker setup (deploy/kafka). Starts nothing yet.
export default async function setup(): Promise<void> {}
