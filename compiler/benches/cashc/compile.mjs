// Median compile time of cashc's compileString per contract (CashScript equivalents of the
// BiSCOL stdlib), over 200 runs after 20 warm-up runs.
import { compileString } from 'cashc';

const contracts = {
  htlc: `pragma cashscript ^0.12.0;
contract Htlc(pubkey sender, pubkey receiver, bytes32 hash, int timeout) {
    function claim(sig receiverSig, bytes32 preimage) {
        require(sha256(preimage) == hash);
        require(checkSig(receiverSig, receiver));
    }
    function refund(sig senderSig) {
        require(this.age >= timeout);
        require(checkSig(senderSig, sender));
    }
}`,
  vault: `pragma cashscript ^0.12.0;
contract Vault(pubkey hot, pubkey cold, int delay) {
    function withdraw(sig hotSig) {
        require(this.age >= delay);
        require(checkSig(hotSig, hot));
    }
    function sweep(sig coldSig) {
        require(checkSig(coldSig, cold));
    }
}`,
  escrow: `pragma cashscript ^0.12.0;
contract Escrow(pubkey buyer, pubkey seller, pubkey arbiter, int timeout) {
    function dispute(sig s1, sig s2) {
        require(checkMultiSig([s1, s2], [buyer, seller, arbiter]));
    }
    function refund(sig buyerSig) {
        require(this.age >= timeout);
        require(checkSig(buyerSig, buyer));
    }
}`,
  atomic_swap: `pragma cashscript ^0.12.0;
contract AtomicSwap(pubkey alice, pubkey bob, bytes20 secretHash, int timeout) {
    function redeem(sig bobSig, bytes32 secret) {
        require(hash160(secret) == secretHash);
        require(checkSig(bobSig, bob));
    }
    function refund(sig aliceSig) {
        require(this.age >= timeout);
        require(checkSig(aliceSig, alice));
    }
}`,
  multisig_recovery: `pragma cashscript ^0.12.0;
contract MultisigRecovery(pubkey k0, pubkey k1, pubkey k2, pubkey recovery, int delay) {
    function multisig(sig s1, sig s2) {
        require(checkMultiSig([s1, s2], [k0, k1, k2]));
    }
    function recover(sig recoverySig) {
        require(this.age >= delay);
        require(checkSig(recoverySig, recovery));
    }
}`,
  inheritance: `pragma cashscript ^0.12.0;
contract Inheritance(pubkey owner, pubkey h0, pubkey h1, pubkey h2, int unlock, int later) {
    function own(sig ownerSig) {
        require(checkSig(ownerSig, owner));
    }
    function inherit(sig s1, sig s2) {
        require(tx.time >= unlock);
        require(checkMultiSig([s1, s2], [h0, h1, h2]));
    }
    function inheritAlone(sig s, pubkey heir) {
        require(tx.time >= later);
        require(heir == h0 || heir == h1 || heir == h2);
        require(checkSig(s, heir));
    }
}`,
};

for (const [name, source] of Object.entries(contracts)) {
  for (let i = 0; i < 20; i++) compileString(source);
  const times = [];
  for (let i = 0; i < 200; i++) {
    const start = process.hrtime.bigint();
    compileString(source);
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  times.sort((a, b) => a - b);
  console.log(`${name.padEnd(18)} median ${times[100].toFixed(1)} µs`);
}
