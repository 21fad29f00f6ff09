//! Regression test: an array of timelocks (`delays: [Blocks; 2]`) instantiates, each element
//! bound to its own lock. Found by `core_descriptors.rs`: `instantiate` refused every such
//! contract ("timelock parameter `delays[1]` needs a value of kind Blocks"), because array
//! elements never reached the timelock table.

use biscol_compiler::db::Database;

#[test]
fn an_array_of_block_locks_binds_each_element() {
    let source = "contract Two(a: PubKey, b: PubKey, delays: [Blocks; 2]) {\n\
                  spend slow() { require sig(a) && older(delays[0]); }\n\
                  spend slower() { require sig(b) && older(delays[1]); }\n\
                  }\n";
    let mut db = Database::new();
    let file = db.set_file("two.bsc", source.to_string());
    let built = biscol_compiler::build::build(&db, file);
    let artifact = built.contracts[0].artifact.as_ref().expect("an artifact");
    let args: Vec<(String, String)> = [
        (
            "a",
            "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
        ),
        (
            "b",
            "c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5",
        ),
        ("delays", "144,10"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    let instance = artifact
        .instantiate(&args, bitcoin::Network::Regtest)
        .expect("an array of locks instantiates");
    let descriptor = instance.descriptor.to_string();
    assert!(
        descriptor.contains("older(144)") && descriptor.contains("older(10)"),
        "{descriptor}"
    );
}
